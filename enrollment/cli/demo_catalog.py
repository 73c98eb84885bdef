"""Static material for `flask seed-demo`: departments, a course catalog, names, rooms.

Each department lists its courses in the order they are offered when the demo is small, so
that prerequisite chains (CS101 → CS201 → CS301) come first. A course is
(number, title, credits, prerequisite codes).
"""
from __future__ import annotations

DEPARTMENTS: list[tuple[str, str, list[tuple[int, str, int, tuple[str, ...]]]]] = [
    ("CS", "Computer Science", [
        (101, "Introduction to Programming", 4, ()),
        (201, "Data Structures", 4, ("CS101",)),
        (301, "Algorithms", 3, ("CS201",)),
        (202, "Computer Organization", 3, ("CS101",)),
        (310, "Operating Systems", 4, ("CS201", "CS202")),
        (320, "Databases", 3, ("CS201",)),
        (330, "Computer Networks", 3, ("CS310",)),
        (340, "Machine Learning", 3, ("CS301", "MATH221")),
        (350, "Software Engineering", 3, ("CS201",)),
        (410, "Compilers", 3, ("CS301", "CS202")),
        (420, "Distributed Systems", 3, ("CS310",)),
        (430, "Computer Security", 3, ("CS310",)),
    ]),
    ("MATH", "Mathematics", [
        (151, "Calculus I", 4, ()),
        (152, "Calculus II", 4, ("MATH151",)),
        (251, "Multivariable Calculus", 4, ("MATH152",)),
        (221, "Linear Algebra", 3, ("MATH151",)),
        (231, "Discrete Mathematics", 3, ()),
        (301, "Real Analysis", 3, ("MATH251",)),
        (310, "Probability", 3, ("MATH152",)),
        (320, "Abstract Algebra", 3, ("MATH221",)),
        (340, "Differential Equations", 3, ("MATH152",)),
        (410, "Numerical Analysis", 3, ("MATH221", "CS101")),
    ]),
    ("PHYS", "Physics", [
        (101, "General Physics I", 4, ()),
        (102, "General Physics II", 4, ("PHYS101",)),
        (201, "Classical Mechanics", 3, ("PHYS102", "MATH152")),
        (210, "Electricity and Magnetism", 3, ("PHYS102",)),
        (250, "Modern Physics", 3, ("PHYS102",)),
        (301, "Quantum Mechanics", 3, ("PHYS250", "MATH221")),
        (320, "Thermal Physics", 3, ("PHYS201",)),
        (110, "Astronomy of the Solar System", 3, ()),
    ]),
    ("HIST", "History", [
        (101, "World History to 1500", 3, ()),
        (102, "World History since 1500", 3, ()),
        (210, "The Ancient Mediterranean", 3, ()),
        (220, "Medieval Europe", 3, ("HIST101",)),
        (230, "The Atlantic World", 3, ()),
        (310, "The Age of Revolutions", 3, ("HIST102",)),
        (320, "History of Science", 3, ()),
        (401, "Historical Methods Seminar", 3, ("HIST102",)),
    ]),
    ("ENGL", "English", [
        (101, "Academic Writing", 3, ()),
        (201, "Introduction to Literary Study", 3, ("ENGL101",)),
        (210, "Shakespeare", 3, ()),
        (220, "The Novel", 3, ()),
        (230, "Creative Writing: Fiction", 3, ("ENGL101",)),
        (310, "Modernism", 3, ("ENGL201",)),
        (320, "Poetry Workshop", 3, ("ENGL230",)),
        (330, "Technical Writing", 3, ("ENGL101",)),
    ]),
    ("BIOL", "Biology", [
        (101, "Principles of Biology", 4, ()),
        (201, "Genetics", 4, ("BIOL101",)),
        (301, "Molecular Biology", 3, ("BIOL201", "CHEM201")),
        (210, "Ecology", 3, ("BIOL101",)),
        (220, "Cell Biology", 4, ("BIOL101",)),
        (310, "Evolution", 3, ("BIOL201",)),
        (320, "Neurobiology", 3, ("BIOL220",)),
        (330, "Bioinformatics", 3, ("BIOL201", "CS101")),
    ]),
    ("CHEM", "Chemistry", [
        (101, "General Chemistry I", 4, ()),
        (102, "General Chemistry II", 4, ("CHEM101",)),
        (201, "Organic Chemistry I", 4, ("CHEM102",)),
        (202, "Organic Chemistry II", 4, ("CHEM201",)),
        (301, "Physical Chemistry", 3, ("CHEM102", "MATH152")),
        (310, "Biochemistry", 3, ("CHEM201",)),
    ]),
    ("ECON", "Economics", [
        (101, "Principles of Microeconomics", 3, ()),
        (102, "Principles of Macroeconomics", 3, ()),
        (201, "Intermediate Microeconomics", 3, ("ECON101", "MATH151")),
        (202, "Intermediate Macroeconomics", 3, ("ECON102",)),
        (301, "Econometrics", 3, ("ECON201", "MATH310")),
        (310, "Game Theory", 3, ("ECON201",)),
        (320, "Development Economics", 3, ("ECON202",)),
    ]),
    ("PSYC", "Psychology", [
        (101, "Introduction to Psychology", 3, ()),
        (201, "Research Methods", 3, ("PSYC101",)),
        (210, "Developmental Psychology", 3, ("PSYC101",)),
        (220, "Cognitive Psychology", 3, ("PSYC101",)),
        (301, "Social Psychology", 3, ("PSYC201",)),
        (310, "Abnormal Psychology", 3, ("PSYC101",)),
    ]),
    ("PHIL", "Philosophy", [
        (101, "Introduction to Philosophy", 3, ()),
        (110, "Logic and Critical Thinking", 3, ()),
        (201, "Ethics", 3, ("PHIL101",)),
        (210, "Philosophy of Mind", 3, ("PHIL101",)),
        (301, "Philosophy of Science", 3, ("PHIL110",)),
    ]),
]

# Titles for extra sections when a large demo needs more courses than the catalog lists.
EXTRA_TITLE_PATTERNS = ["Topics in {}", "Seminar in {}", "Advanced {}", "Studies in {}",
                        "Readings in {}", "Research in {}", "Special Topics in {}",
                        "Practicum in {}"]

FIRST_NAMES = (
    "Aaliyah Aarav Abigail Adam Aditi Adrian Aisha Alejandro Alexander Alice Amara Amelia Ana "
    "Andrei Anna Arjun Ava Beatriz Benjamin Camila Carlos Charlotte Chen Chloe Daniel David "
    "Diego Dmitri Elena Elijah Emily Emma Ethan Fatima Felix Freya Gabriel Grace Hana Hannah "
    "Harper Hiroshi Ibrahim Isabella Isaac Ivan Jack Jamal James Javier Jin Jonas Jose Julia "
    "Kai Karim Kenji Laila Layla Leo Liam Lina Lucas Lucia Luis Maria Mateo Maya Mei Mia "
    "Michael Mohammed Nadia Naomi Nathan Nia Noah Nora Olivia Omar Oscar Priya Rafael Ravi "
    "Rosa Ryan Sakura Samuel Sara Sebastian Sofia Sophia Tariq Thomas Valentina Victor "
    "William Yara Yusuf Zara Zoe"
).split()

LAST_NAMES = (
    "Abe Adeyemi Ahmed Ali Alvarez Anderson Bauer Becker Brown Campbell Castillo Chen Cohen "
    "Costa Cruz Dang Davis Diaz Dubois Edwards Evans Fernandez Fischer Fontaine Garcia Gomez "
    "Gonzalez Gupta Haddad Hansen Harris Hernandez Hoang Hughes Ibrahim Ivanova Jackson Jensen "
    "Johnson Jones Kim Kowalski Kumar Larsen Lee Lewis Lopez Martin Martinez Meyer Miller "
    "Moreau Morris Murphy Nakamura Nguyen Novak Okafor Olsen Ortiz Park Patel Perez Petrov "
    "Popescu Quinn Ramirez Reyes Richter Rossi Russo Sanchez Santos Sato Schmidt Schneider "
    "Shah Silva Singh Smith Suzuki Tanaka Taylor Thomas Torres Tran Turner Wagner Walker "
    "Wang Weber Williams Wilson Wong Wright Yamamoto Yilmaz Young Zhang"
).split()

BUILDINGS = ["Hall of Sciences", "Turing Hall", "Noether Hall", "Curie Lab", "Library",
             "Humanities Building", "Darwin Center", "Keynes Hall", "Main Building"]

# (days, start "HH:MM", minutes): the usual MWF and TR grid plus labs and evening classes
# that straddle it, so that some courses overlap only partly.
MEETING_PATTERNS: list[tuple[str, str, int, int]] = [
    # days, start, minutes, weight
    ("MWF", "08:00", 50, 3), ("MWF", "09:00", 50, 5), ("MWF", "10:00", 50, 6),
    ("MWF", "11:00", 50, 6), ("MWF", "12:00", 50, 4), ("MWF", "13:00", 50, 5),
    ("MWF", "14:00", 50, 4), ("MWF", "15:00", 50, 2),
    ("TR", "08:00", 75, 2), ("TR", "09:30", 75, 5), ("TR", "11:00", 75, 6),
    ("TR", "12:30", 75, 5), ("TR", "14:00", 75, 5), ("TR", "15:30", 75, 3),
    ("MW", "16:00", 75, 2), ("R", "13:00", 170, 2), ("T", "14:00", 170, 1),
    ("W", "18:00", 150, 2), ("M", "18:30", 150, 1),
]

# Grades of completed courses, with weights that look like a real transcript.
GRADE_WEIGHTS = [("A", 22), ("A-", 14), ("B+", 13), ("B", 14), ("B-", 9), ("C+", 7),
                 ("C", 8), ("C-", 4), ("D", 3), ("F", 2), ("P", 3), ("W", 1)]

# Named demo accounts, printed at the end as "Demo logins".
STAFF_LOGIN = ("registrar@example.edu", "Riley Registrar", "registrar-demo-1")
STUDENT_PASSWORD = "student-demo-1"
DEMO_STUDENTS = [
    ("ada@example.edu", "Ada Lovelace", "CS", 3),
    ("alan@example.edu", "Alan Turing", "MATH", 2),
    ("grace@example.edu", "Grace Hopper", "CS", 1),
]
# Instructors (email, name, department): each teaches the first few courses of their
# department in each term (`TAUGHT_PER_TERM`, past term first), under their own name.
INSTRUCTOR_PASSWORD = "instructor-demo-1"
DEMO_INSTRUCTORS = [
    ("knuth@example.edu", "Donald Knuth", "CS"),
    ("noether@example.edu", "Emmy Noether", "MATH"),
]
TAUGHT_PER_TERM = (1, 3)
