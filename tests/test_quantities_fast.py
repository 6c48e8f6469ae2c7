"""The prefix of a value in a plain SI unit, chosen without pint (:func:`gigawatt.quantities.prefix_scale`),
against pint's own ``to_compact`` (the peer): the same prefixed unit and the same scale, to the last bit, for
every power of ten pint has a prefix for, and beyond them (held at quecto and quetta)."""
import pytest

pint = pytest.importorskip("pint")

from gigawatt import quantities  # noqa: E402


def _by_pint(magnitude, unit):
    reg = quantities.ureg()
    units = reg.Quantity(magnitude, unit).to_compact().units
    return float(reg.Quantity(1.0, units).to(unit).magnitude), f"{units:~P}"


@pytest.mark.parametrize("unit", sorted(quantities._PLAIN_SI_UNITS))
def test_prefix_scale_matches_pint(unit):
    for exponent in range(-36, 37):
        for mantissa in (1.0, 2.5, 9.99, 999.0):
            magnitude = mantissa * 10.0 ** exponent
            for sign in (1.0, -1.0):
                fast = quantities.prefix_scale(sign * magnitude, unit)
                scale, prefixed = _by_pint(magnitude, unit)
                assert fast[1] == prefixed, (magnitude, unit)
                assert fast[0] == scale, (magnitude, unit)  # to the last bit
