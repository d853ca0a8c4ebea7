"""Legend charts: their rows, names kept as text, the minutes scale with the map's colours."""

from gridplan.report.style import minutes_colors
from ui.legend import MAX_LABEL, Swatch, scale_rows, swatch_chart, swatch_rows


def test_swatches_fill_columns_top_down():
    rows = swatch_rows([Swatch(str(i), "#000000") for i in range(7)], columns=3)
    assert rows["col"].tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert rows["row"].tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_names_stay_text_and_long_ones_are_cut():
    hostile = "<img src=x onerror=alert(1)>"
    rows = swatch_rows([Swatch("**粗体**", "#111111"), Swatch(hostile, "#222222", "ring")], 2)
    assert rows["label"].tolist() == ["**粗体**", hostile[: MAX_LABEL - 1] + "…"]
    assert rows["shape"].tolist() == ["square", "ring"]
    spec = swatch_chart([Swatch("**粗体**", "#111111")]).to_dict()
    assert "html" not in str(spec).lower()


def test_minutes_scale_boxes_carry_the_map_colours_and_minutes():
    rows = scale_rows()
    assert rows["start"].tolist()[:3] == [0.0, 5.0, 10.0]
    assert rows["end"].tolist()[11] == 60.0 and rows["start"].tolist()[12] == 60.0
    assert rows["color"].tolist() == minutes_colors()
