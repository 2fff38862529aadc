"""问政 inquiries: the event, its objects and deputies, its questions (links to cases of kind inquiry), its own
record, its followers and its 测评 (links to ballots)."""


def up(db, migrator):
    from models import (Inquiry, InquiryDeputy, InquiryEvent, InquiryFollow, InquiryObject, InquiryQuestion,
                        InquiryRating)
    db.create_tables([Inquiry, InquiryObject, InquiryDeputy, InquiryQuestion, InquiryEvent, InquiryFollow,
                      InquiryRating])
