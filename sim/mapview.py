"""Figures of a run for the browser: the replay map and the time series (plotly, fully offline).

The map is drawn in projected kilometres (UTM 48N / 1000) with no tile server: a generated-terrain base
from the district grid, rivers, township names, and per frame (see ``models/district/frames.py``) flood
depth, fire, debris, slowed/closed roads, residents by state, teams and shelters. Plotly's own animation
(play button and time slider) replays the frames in the browser.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sim.district import District

MAX_FRAMES = 49  # frames sent to the browser (evenly thinned beyond this)
PERSON_LAYERS = {  # layer: (中文, English, colour)
    "persons_home": ("在家/待撤", "at home / not yet moved", "#8c8c8c"),
    "persons_moving": ("转移途中", "on the move", "#ff9f1c"),
    "persons_safe": ("已安置/救出", "sheltered / rescued", "#2a9d8f"),
    "persons_trapped": ("被困", "trapped", "#d62828"),
    "persons_harmed": ("伤亡", "injured / dead", "#000000"),
}


def _l(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _block_reduce(field: np.ndarray, k: int, how: str) -> np.ndarray:
    nr, nc = field.shape
    br, bc = -(-nr // k), -(-nc // k)
    pad = np.full((br * k, bc * k), np.nan)
    pad[:nr, :nc] = field
    blocks = pad.reshape(br, k, bc, k)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks outside the district stay NaN
        if how == "max":
            return np.nanmax(np.where(np.isnan(blocks), -np.inf, blocks), axis=(1, 3))
        return np.nanmean(blocks, axis=(1, 3))


def _block_centres_km(meta: dict, k: int, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = meta["grid"]
    bc = -(-g["ncols"] // k)
    r, c = np.divmod(np.asarray(index, dtype=np.int64), bc)
    s = g["cell_size_m"] * k
    return (g["x0_m"] + (c + 0.5) * s) / 1000.0, (g["y0_m"] - (r + 0.5) * s) / 1000.0


def base_traces(district: District, lang: str = "zh", block_m: float = 500.0) -> list[go.BaseTraceType]:
    """Draw the static layers: terrain (generated, shaded), rivers and township names."""
    g = district.grid
    k = max(1, int(round(block_m / g.cell_size_m)))
    elev = np.where(district.mask, district.terrain.elevation_m, np.nan)
    z = _block_reduce(elev, k, "mean")
    br, bc = z.shape
    s = g.cell_size_m * k
    xs = (g.x0_m + (np.arange(bc) + 0.5) * s) / 1000.0
    ys = (g.y0_m - (np.arange(br) + 0.5) * s) / 1000.0
    terrain = go.Heatmap(x=xs, y=ys, z=z, colorscale="Greens", reversescale=True, showscale=False, opacity=0.55,
                         hovertemplate=_l(lang, "高程 %{z:.0f} m<extra>地形（生成）</extra>",
                                          "elevation %{z:.0f} m<extra>terrain (generated)</extra>"),
                         name=_l(lang, "地形（生成）", "terrain (generated)"))
    river = district.terrain.river_id > 0
    rr, cc = np.nonzero(river[::k, ::k])
    rivers = go.Scatter(x=(g.x0_m + (cc + 0.5) * s) / 1000.0, y=(g.y0_m - (rr + 0.5) * s) / 1000.0, mode="markers",
                        marker={"size": 3, "color": "#4a90d9", "symbol": "square"}, hoverinfo="skip",
                        name=_l(lang, "河流", "rivers"))
    tw = district.townships
    names = go.Scatter(x=[t.x_m / 1000.0 for t in tw], y=[t.y_m / 1000.0 for t in tw], mode="text",
                       text=[t.name if lang == "zh" else t.name_en for t in tw],
                       textfont={"size": 11, "color": "#222"},
                       hoverinfo="skip", name=_l(lang, "乡镇", "townships"))
    return [terrain, rivers, names]


def _frame_traces(frames: pd.DataFrame, meta: dict, district: District, t_s: float,
                  lang: str) -> list[go.BaseTraceType]:
    """Draw the dynamic traces of one frame time, always in the same order (plotly animates by position)."""
    f = frames[frames["time_s"] == t_s]
    by = {layer: grp for layer, grp in f.groupby("layer", observed=True)}
    hb, pb = meta["hazard_block"], meta["people_block"]
    out = []

    def hazard(layer: str, name: str, colorscale: str, cmax: float, unit: str) -> go.Scatter:
        grp = by.get(layer, pd.DataFrame({"index": [], "value": []}))
        x, y = _block_centres_km(meta, hb, grp["index"].to_numpy())
        return go.Scatter(x=x, y=y, mode="markers", name=name,
                          marker={"symbol": "square", "size": 7, "color": grp["value"].to_numpy(),
                                  "colorscale": colorscale, "cmin": 0.0, "cmax": cmax, "opacity": 0.85},
                          hovertemplate=f"{name} %{{marker.color:.2f}} {unit}<extra></extra>")

    out.append(hazard("flood_depth_m", _l(lang, "洪水深度 (m)", "flood depth (m)"), "Blues", 5.0, "m"))
    out.append(hazard("fire_burned", _l(lang, "过火", "burned"), "Greys", 1.0, ""))
    out.append(hazard("fire_burning", _l(lang, "燃烧中", "burning"), "YlOrRd", 0.3, ""))
    out.append(hazard("debris_m", _l(lang, "滑坡堆积 (m)", "landslide debris (m)"), "YlOrBr", 3.0, "m"))
    # roads slowed / closed: segments from the directed links
    c = district.road_csr
    tail = np.repeat(np.arange(c.indptr.size - 1), np.diff(c.indptr))
    for state, name, colour in ((1, _l(lang, "道路受阻", "roads slowed"), "#f4a261"),
                                (2, _l(lang, "道路中断", "roads closed"), "#e63946")):
        grp = by.get("road", pd.DataFrame({"index": [], "value": []}))
        links = grp["index"].to_numpy()[grp["value"].to_numpy() == state].astype(np.int64)
        xs = np.full(links.size * 3, np.nan)
        ys = np.full(links.size * 3, np.nan)
        xs[0::3], xs[1::3] = c.node_x_m[tail[links]] / 1000.0, c.node_x_m[c.head[links]] / 1000.0
        ys[0::3], ys[1::3] = c.node_y_m[tail[links]] / 1000.0, c.node_y_m[c.head[links]] / 1000.0
        out.append(go.Scatter(x=xs, y=ys, mode="lines", line={"color": colour, "width": 2}, name=name,
                              hoverinfo="skip"))
    # residents by state: bubbles on the people grid, area ∝ persons
    for layer, (zh, en, colour) in PERSON_LAYERS.items():
        grp = by.get(layer, pd.DataFrame({"index": [], "value": []}))
        x, y = _block_centres_km(meta, pb, grp["index"].to_numpy())
        v = grp["value"].to_numpy()
        out.append(go.Scatter(x=x, y=y, mode="markers", name=_l(lang, zh, en),
                              marker={"size": np.clip(np.sqrt(v) * 0.35, 2, 30), "color": colour, "opacity": 0.55,
                                      "line": {"width": 0}},
                              customdata=v, hovertemplate=_l(lang, zh, en) + " %{customdata:.0f}<extra></extra>"))
    # teams at their road node; shelters sized by occupancy
    grp = by.get("team", pd.DataFrame({"index": [], "value": []}))
    nodes = grp["value"].to_numpy().astype(np.int64)
    teams = meta.get("teams", [])
    labels = [teams[i]["name"] if i < len(teams) else str(i) for i in grp["index"].to_numpy()]
    out.append(go.Scatter(x=c.node_x_m[nodes] / 1000.0, y=c.node_y_m[nodes] / 1000.0, mode="markers",
                          name=_l(lang, "救援队伍", "rescue teams"), text=labels,
                          marker={"symbol": "triangle-up", "size": 7, "color": "#6a4c93"},
                          hovertemplate="%{text}<extra></extra>"))
    shelters = meta.get("shelters", [])
    grp = by.get("shelter", pd.DataFrame({"index": [], "value": []}))
    occ = dict(zip(grp["index"].to_numpy().tolist(), grp["value"].to_numpy().tolist(), strict=True))
    sx = [s["x_m"] / 1000.0 for s in shelters]
    sy = [s["y_m"] / 1000.0 for s in shelters]
    share = [occ.get(i, 0.0) / max(s["capacity"], 1) for i, s in enumerate(shelters)]
    text = [f"{s['name']} {occ.get(i, 0):.0f}/{s['capacity']}" for i, s in enumerate(shelters)]
    out.append(go.Scatter(x=sx, y=sy, mode="markers", name=_l(lang, "避难场所（占用率）", "shelters (occupancy)"),
                          text=text, hovertemplate="%{text}<extra></extra>",
                          marker={"symbol": "square", "size": 10, "color": share, "cmin": 0, "cmax": 1,
                                  "colorscale": "RdYlGn_r", "line": {"width": 1, "color": "#333"}}))
    return out


def frame_times(frames: pd.DataFrame | None) -> list[float]:
    """Frame times (s) of a result, thinned evenly to at most ``MAX_FRAMES`` (first and last kept)."""
    if frames is None or frames.empty:
        return []
    t = np.unique(frames["time_s"].to_numpy())
    if t.size > MAX_FRAMES:
        t = t[np.unique(np.round(np.linspace(0, t.size - 1, MAX_FRAMES)).astype(int))]
    return t.tolist()


def map_figure(result, district: District, lang: str = "zh", start_s: float | None = None) -> go.Figure:
    """Draw the replay map of a run: base layers plus animated frames with a play button and a time slider."""
    times = frame_times(result.frames)
    *base, names = base_traces(district, lang)  # township names go on top of everything
    fig = go.Figure()
    for tr in base:
        fig.add_trace(tr)
    start = result.summary.get("start_time") or ""
    if not times:
        fig.add_trace(names)
        fig.update_layout(title=_l(lang, "此结果没有地图帧", "this result has no map frames"))
        return _layout(fig, lang)
    first = times[-1] if start_s is None else min(times, key=lambda t: abs(t - start_s))
    dyn = _frame_traces(result.frames, result.map_meta, district, first, lang)
    for tr in dyn:
        fig.add_trace(tr)
    fig.add_trace(names)
    ids = list(range(len(base), len(base) + len(dyn)))
    fig.frames = [go.Frame(name=f"{t / 3600:.1f}", traces=ids,
                           data=_frame_traces(result.frames, result.map_meta, district, t, lang)) for t in times]
    steps = [{"method": "animate", "label": f"{t / 3600:.0f} h",
              "args": [[f"{t / 3600:.1f}"], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                             "transition": {"duration": 0}}]} for t in times]
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0.0, "y": -0.02, "xanchor": "left",
                      "yanchor": "top", "showactive": False,
                      "buttons": [{"label": _l(lang, "播放", "play"), "method": "animate",
                                   "args": [None, {"frame": {"duration": 600, "redraw": True},
                                                   "fromcurrent": True, "transition": {"duration": 0}}]},
                                  {"label": _l(lang, "暂停", "pause"), "method": "animate",
                                   "args": [[None], {"mode": "immediate", "frame": {"duration": 0}}]}]}],
        sliders=[{"active": times.index(first), "steps": steps, "x": 0.18, "len": 0.82, "y": -0.02,
                  "currentvalue": {"prefix": _l(lang, "模拟时间 ", "simulated time ") + (f"({start} + ) "
                                                                                          if start else "")}}],
    )
    return _layout(fig, lang)


def _layout(fig: go.Figure, lang: str) -> go.Figure:
    fig.update_layout(
        height=640, margin={"l": 10, "r": 10, "t": 30, "b": 90}, plot_bgcolor="#f7f7f2",
        legend={"orientation": "v", "x": 1.01, "y": 1.0, "font": {"size": 11}},
        xaxis={"title": _l(lang, "东 (km, UTM 48N)", "east (km, UTM 48N)"), "showgrid": False},
        yaxis={"title": _l(lang, "北 (km)", "north (km)"), "scaleanchor": "x", "scaleratio": 1, "showgrid": False},
        annotations=[{"text": _l(lang, "地形、道路为生成数据；乡镇中心为真实位置", "terrain and roads are generated; "
                                 "township centres are real"), "showarrow": False, "xref": "paper", "yref": "paper",
                      "x": 0, "y": 1.02, "xanchor": "left", "font": {"size": 10, "color": "#666"}}],
    )
    return fig


TS_GROUPS = {  # (中文, English): columns
    ("居民状态 (人)", "residents by state (persons)"): [
        "persons_at_home", "persons_warned", "persons_preparing", "persons_travelling", "persons_sheltered",
        "persons_stayed", "persons_trapped", "persons_rescued", "persons_injured", "persons_dead"],
    ("灾害范围", "hazard extent"): ["flooded_km2", "burned_ha", "road_closed_km", "road_slowed_km"],
    ("响应", "response"): ["team_utilisation", "teams_working", "shelter_occupancy", "vehicles_on_network"],
}


def timeseries_figure(ts: pd.DataFrame, group: tuple[str, str], lang: str = "zh") -> go.Figure:
    """One group of time series against simulated hours."""
    cols = [c for c in TS_GROUPS[group] if c in ts.columns]
    fig = go.Figure()
    hours = ts["time_s"].to_numpy() / 3600.0
    for c in cols:
        fig.add_trace(go.Scatter(x=hours, y=ts[c], mode="lines", name=c))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title=_l(lang, *group), xaxis_title=_l(lang, "模拟时间 (h)", "simulated time (h)"))
    return fig
