"""The domain model: each relationship kind read and written from both sides, constraints."""
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from enrollment.extensions import db
from enrollment.models import Course, Status, Student, User
from tests.factories import at


def test_user_student_one_to_one_both_sides(make_student):
    student = make_student(name="Ada Lovelace")
    assert student.user.student is student
    assert student.name == "Ada Lovelace"
    user = User(email="Grace@Example.EDU", name="Grace")
    user.student = Student(student_number="X1")
    db.session.add(user)
    db.session.flush()
    assert user.email == "grace@example.edu"
    assert user.student.user is user


def test_email_unique_regardless_of_case(app):
    db.session.add(User(email="a@example.edu", name="A"))
    db.session.flush()
    db.session.add(User(email="A@EXAMPLE.edu", name="B"))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_deleting_user_deletes_profile(make_student):
    student = make_student()
    sid = student.id
    db.session.delete(student.user)
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Student, sid) is None


def test_department_term_one_to_many_both_sides(make_course, make_term, make_department):
    term, dept = make_term(), make_department()
    course = make_course(term=term, department=dept)
    assert course in term.courses and course in dept.courses
    other = Course(code="X9", title="Other", term=term, department=dept)
    dept.courses.append(other)
    db.session.flush()
    assert other.department is dept and other.term is term


def test_prerequisites_self_referential_both_sides(make_course, make_term):
    term = make_term()
    intro, advanced = make_course(term=term, code="CS101"), make_course(term=term, code="CS201")
    advanced.prerequisites.append(intro)
    db.session.flush()
    db.session.expire_all()
    assert advanced.prerequisites == [intro]
    assert intro.required_by == [advanced]


def test_deleting_course_removes_its_prerequisite_links(make_course, make_term):
    term = make_term()
    intro, advanced = make_course(term=term), make_course(term=term)
    advanced.prerequisites.append(intro)
    db.session.flush()
    db.session.delete(intro)
    db.session.flush()
    db.session.expire_all()
    assert advanced.prerequisites == []


def test_association_object_and_proxies(make_course, make_student, make_enrollment):
    course, student, other = make_course(), make_student(), make_student()
    make_enrollment(student=student, course=course, status=Status.ENROLLED)
    make_enrollment(student=other, course=course, status=Status.WAITLISTED, waitlist_seq=1)
    db.session.expire_all()
    assert set(course.students) == {student, other}
    assert list(student.courses) == [course]
    assert course.enrolled_students == [student]
    assert course.waitlisted_students == [other]
    assert student.enrolled_courses == [course]
    assert other.waitlisted_courses == [course]


def test_course_with_enrollments_cannot_be_deleted(make_enrollment):
    course = make_enrollment().course
    db.session.delete(course)
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_student_with_enrollments_cannot_be_deleted(make_enrollment):
    student = make_enrollment().student
    db.session.delete(student)
    with pytest.raises(IntegrityError):
        db.session.flush()


@pytest.mark.parametrize("values", [
    {"capacity": -1},
    {"waitlist_capacity": -1},
    {"credits": 0},
    {"days": "MW", "start_time": at("10:00"), "end_time": at("09:00")},
    {"days": "MW", "start_time": at("10:00"), "end_time": None},
])
def test_course_check_constraints(make_course, values):
    with pytest.raises(IntegrityError):
        make_course(**values)


def test_waitlist_seq_only_when_waitlisted(make_course, make_student, make_enrollment):
    student, course = make_student(), make_course()
    with pytest.raises(IntegrityError):
        make_enrollment(student=student, course=course, status=Status.ENROLLED, waitlist_seq=3)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        make_enrollment(status=Status.WAITLISTED, waitlist_seq=None)


def test_bad_status_refused_by_database(make_course, make_student):
    course, student = make_course(), make_student()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text(
            "INSERT INTO enrollments (student_id, course_id, status, source, created_at, "
            "status_changed_at, updated_at) VALUES (:s, :c, 'dropped', 'self', :t, :t, :t)"),
            {"s": student.id, "c": course.id, "t": "2027-01-01 00:00:00"})


def test_overlaps(make_course, make_term):
    term = make_term()
    a = make_course(term=term, days="MWF", start_time=at("09:00"), end_time=at("10:00"))
    b = make_course(term=term, days="F", start_time=at("09:30"), end_time=at("11:00"))
    c = make_course(term=term, days="TR", start_time=at("09:00"), end_time=at("10:00"))
    d = make_course(term=term, days="M", start_time=at("10:00"), end_time=at("11:00"))
    assert a.overlaps(b) and b.overlaps(a)
    assert not a.overlaps(c)
    assert not a.overlaps(d)  # back to back is fine
