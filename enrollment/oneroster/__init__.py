"""OneRoster 1.1 rostering: the records published (`records`), their ids (`ids`), the REST
provider and the CSV bundles."""
