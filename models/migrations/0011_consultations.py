"""征集 consultations: consultations, the stations they were sent to, their articles or questions, and the
opinions with their answers."""


def up(db, migrator):
    from models import Consultation, ConsultationStation, Opinion, Section
    db.create_tables([Consultation, ConsultationStation, Section, Opinion])
