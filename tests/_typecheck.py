"""The runtime type checker the test suite applies to inrdict (see conftest): beartype with PEP 484's numeric
tower, so an `int` is accepted where `float` is annotated (as every static type checker does)."""

from beartype import BeartypeConf, beartype

typechecker = beartype(conf=BeartypeConf(is_pep484_tower=True))
