"""The README's case example is a working case (with a racks.csv beside it)."""
import re
from pathlib import Path

import gigawatt as gw

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_case_example_loads_and_solves(tmp_path):
    toml = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    (tmp_path / "case.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "racks.csv").write_text(
        "id,bus,p_it_kw,shelf_loss_model,shelf_rated_power_kw\n"
        "r1,tap,130,shelf,160\n"
        "r2,tap,130,shelf,160\n", encoding="utf-8")
    case = gw.load_case(tmp_path / "case.toml")
    result = gw.solve(case)
    # 260 kW of IT power at the racks' inputs (p_it_w on its default basis): the grid supplies that and the
    # feeder's loss, the chips get less than the 90 % regulators pass, and the ledger closes.
    assert abs(result.attrs["p_rack_input_w"] - 260e3) <= 1e-12 * 260e3
    assert result.attrs["p_grid_w"] > 260e3 and result.attrs["p_it_w"] < 0.9 * 260e3
    assert result.attrs["energy_balance_residual"] < 1e-9
    assert case.tables["bus"]["v_nominal_v"].tolist() == [800.0, 800.0]  # 0.8 kV converted
    # The [cooling] section is solved: one loop (the racks name none), its heat ledger closes, and the 100 kW
    # recovery demand is met (the racks make far more heat than that).
    assert result.sizes["cooling_loop"] == 1
    assert result.attrs["heat_balance_residual"] < 1e-9
    assert result.attrs["q_recovered_w"] == 100e3
