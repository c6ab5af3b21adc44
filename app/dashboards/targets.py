"""The targets figures are judged against (the colours and the problems list).

The defaults come from the source documents (../shared/seeds): members at least 10 % of the
population served, an activity every quarter and at least four a year, dues collected 90 %,
residents' satisfaction 95 %, self-governance carried out everywhere (自治开展面 100 %),
awareness of the rules 95 % (知晓率).
"""

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Targets:
    member_ratio: Fraction = Fraction(10, 100)
    activities_per_quarter: int = 1
    activities_per_year: int = 4
    collection_rate: Fraction = Fraction(90, 100)
    linkage_coverage: Fraction = Fraction(90, 100)
    satisfaction: Fraction = Fraction(95, 100)


DEFAULT_TARGETS = Targets()
