"""15-minute health-service circle (15分钟健康服务圈): travel time, coverage, KPIs, what-if.

In presentation mode (演示模式, for a projector) the map, the what-if sliders and the KPIs
come first, side by side; the model choices and the input panels are folded below.
"""

from contextlib import AbstractContextManager, nullcontext

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gridplan import settings, workflow
from gridplan.travel.speeds import MODE_SPEEDS_KMH
from ui import cache, navigation, scenario, state, texts
from ui.panels.common import presentation_layout, upload_notices
from ui.panels.coverage import CoverageInputs, what_if
from ui.panels.facilities import facility_panel, illustrative_banner
from ui.panels.inputs import population_panel, raster_inputs_panel, roads_panel
from ui.state import Key
from ui.texts import tr

navigation.keep_navigation_in_charge()
upload_notices()
sc = scenario.current()
presenting = presentation_layout()
if presenting:  # the what-if stage first; the controls drawn after it go below, folded
    stage: DeltaGenerator | None = st.container()
    controls: AbstractContextManager[object] = st.expander(tr("controls"))
else:
    st.title(tr("page_access"))
    st.caption(tr("access_intro"))
    illustrative_banner(scenario.facilities(sc.sel), sc.units.prefecture)
    stage, controls = None, nullcontext()

# --- scenario controls (changing these recomputes travel times) --------------------------
CELL_SIZES = [50, 100, 200, 500, 1000]
with controls:
    c1, c2, c3, c4 = st.columns(4)
    model = c1.selectbox(tr("model"), workflow.MODELS, format_func=texts.MODEL, key="acc_model")
    mode = c2.selectbox(tr("mode"), list(MODE_SPEEDS_KMH), format_func=texts.MODE, key="acc_mode")
    target = c3.selectbox(
        tr("target"),
        list(workflow.TARGET_GROUPS),
        format_func=texts.TARGET,
        key="acc_target",
    )
    cell_m = c4.selectbox(
        tr("cell_size"),
        CELL_SIZES,
        index=CELL_SIZES.index(int(settings.cell_m)),
        key=Key.COVERAGE_CELL,
        format_func=lambda c: f"{c} m",
    )

facility_panel(sc.sel, sc.units.prefecture)
population_panel(sc.sel)
surface_key = sc.surface(cell_m)
surface = cache.load_surface(surface_key)
facilities = scenario.facilities(sc.sel)
used = workflow.used_facilities(facilities, target)
if not (surface.population > 0).any():  # nothing to assess: say what to upload, no empty KPIs
    st.warning(tr("no_population_page", prefecture=sc.units.prefecture.name))
    st.stop()
if used.empty:
    st.warning(tr("no_facilities_page"))
    st.stop()
if presenting:
    illustrative_banner(facilities, sc.units.prefecture)  # still said, under the stage
with controls:
    roads_path = roads_panel(model, sc.sel)
raster_inputs_panel(model, surface.grid)
with nullcontext() if stage is None else stage:
    what_if(
        CoverageInputs(
            sc, surface_key, surface, facilities, used,
            xy=workflow.facilities_xy(used, surface.grid.crs),
            digest=cache.facility_digest(used),
            model=str(model), mode=str(mode), target=str(target), roads_path=roads_path,
            landcover_path=state.raster_path("landcover"), dem_path=state.raster_path("dem"),
        )
    )  # fmt: skip
