"""民情分析: each report's words as a vector (case_terms) and its strongest words indexed (case_word), 我也遇到 (support), the trained routing model
(analysis_model); existing reports are indexed."""


def up(db, migrator):
    from models import AnalysisModel, CaseTerms, CaseWord, Support
    from services import analysis
    db.create_tables([CaseTerms, CaseWord, Support, AnalysisModel])
    analysis.reindex()
