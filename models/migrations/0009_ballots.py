"""表决 ballots: ballots, their items and electors, who voted (participation), what was chosen (paper, with
no link to the voter) and the frozen results."""


def up(db, migrator):
    from models import Ballot, BallotItem, BallotResult, Elector, Paper, Participation
    db.create_tables([Ballot, BallotItem, Elector, Participation, Paper, BallotResult])
