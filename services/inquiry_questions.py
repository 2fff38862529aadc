"""问政问题 — the questions of an inquiry as matters of kind "inquiry" on the case workflow."""
from models import Ballot, Case, InquiryQuestion, InquiryRating

WAITING = ("submitted",)                       # not yet screened
IN_LIST = ("listed", "assigned", "answered", "rectifying", "rectified", "closed")
FINISHED = ("rectified", "closed")


def states_of(inquiry):
    """{case state: count} over the inquiry's questions."""
    rows = (Case.select(Case.state).join(InquiryQuestion, on=(InquiryQuestion.case == Case.id))
            .where(InquiryQuestion.inquiry == inquiry))
    counts = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def rating_held(inquiry, purpose):
    return InquiryRating.select().join(Ballot).where(
        InquiryRating.inquiry == inquiry, InquiryRating.purpose == purpose,
        Ballot.state.in_(("closed", "published"))).exists()


def stage_blockers(inquiry, stage):
    counts = states_of(inquiry)
    listed = sum(counts.get(s, 0) for s in IN_LIST)
    missing = []
    if stage == "mobilisation" and not counts:
        missing.append("还没有征集到问题")
    if stage == "sorting":
        if counts.get("submitted"):
            missing.append(f"还有 {counts['submitted']} 个问题没有筛选（列入清单、合并或不予采纳）")
        if not listed:
            missing.append("问题清单还是空的")
        if counts.get("listed"):
            missing.append(f"还有 {counts['listed']} 个清单问题没有交给被问政对象")
    if stage == "event":
        if counts.get("assigned"):
            missing.append(f"还有 {counts['assigned']} 个问题没有记录现场答复")
        if counts.get("answered"):
            missing.append(f"还有 {counts['answered']} 个问题没有承诺和整改方案")
        if not rating_held(inquiry, "event"):
            missing.append("还没有举行现场满意度测评")
    if stage == "review":
        if counts.get("rectifying") or counts.get("assigned") or counts.get("answered"):
            waiting = sum(counts.get(s, 0) for s in ("rectifying", "assigned", "answered"))
            missing.append(f"还有 {waiting} 个问题没有整改完成")
        if not rating_held(inquiry, "review"):
            missing.append("还没有举行整改后满意度测评")
    return missing
