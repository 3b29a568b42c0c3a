"""The road network: generated (labelled *generated*) or imported, as a networkx MultiDiGraph and CSR arrays.

Generated network (projected metres, EPSG:32648):

* expressways — the G50 corridor along the Yangtze's south bank (Linshi → Longqiao → city → Jiangdong →
  Qingxi → Nantuo, as the Fu–Feng–Shi section is described) and G5012 from the Changshou side past
  Yihe/Lidu, crossing the Yangtze to join G50 near Longqiao;
* trunk roads — a Delaunay triangulation of the township centres, keeping river crossings only as
  bridges at least ``BRIDGE_SPACING_M`` apart along each big river (shortest crossings first);
* village roads — a node at the most populated cell of every ``village_spacing_m`` block, each linked to
  its three nearest neighbours on the same bank;
* anything left disconnected is joined by its shortest link (a bridge if it must cross).

Every edge carries ``length_m``, ``free_speed_kmh``, ``lanes``, ``capacity_veh_per_h``, ``road_class``,
``bridge``; every node ``x``, ``y`` (metres), ``kind``, ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString, Polygon

from sim.geo import Township, project_lonlat
from sim.grid import Grid
from sim.yamlio import InputError

ROAD_CLASSES = {
    #  class: (free speed km/h, lanes per direction, capacity veh/h per lane, sinuosity)
    "expressway": (100.0, 2, 1800.0, 1.05),
    "trunk": (60.0, 1, 1400.0, 1.15),
    "village": (30.0, 1, 600.0, 1.3),
}
BRIDGE_SPACING_M = 6000.0

G50_WAYPOINTS = [(106.985, 29.675), "蔺市镇", "龙桥街道", "荔枝街道", "江东街道", "清溪镇", "南沱镇",
                 (107.66, 29.935)]
G5012_WAYPOINTS = [(107.06, 29.84), "义和镇", "李渡街道", "龙桥街道"]


@dataclass(frozen=True)
class RoadCSR:
    """Directed road graph as compressed sparse rows (node i's out-edges are indptr[i]:indptr[i+1])."""

    indptr: np.ndarray  # int64 (n_nodes + 1,)
    head: np.ndarray  # int64 (n_edges,), destination node
    length_m: np.ndarray  # float64
    free_speed_kmh: np.ndarray  # float64
    lanes: np.ndarray  # int32
    capacity_veh_per_h: np.ndarray  # float64
    bridge: np.ndarray  # bool
    node_x_m: np.ndarray  # float64 (n_nodes,)
    node_y_m: np.ndarray  # float64 (n_nodes,)


def to_csr(graph: nx.MultiDiGraph) -> RoadCSR:
    """Export a road graph with integer nodes 0..n-1 to CSR arrays (edges sorted by tail, head, key)."""
    n = graph.number_of_nodes()
    if sorted(graph.nodes) != list(range(n)):
        raise ValueError("road graph nodes must be the integers 0..n-1")
    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2]))
    tail = np.array([e[0] for e in edges], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, tail + 1, 1)
    indptr = np.cumsum(indptr)
    return RoadCSR(
        indptr=indptr,
        head=np.array([e[1] for e in edges], dtype=np.int64),
        length_m=np.array([e[3]["length_m"] for e in edges], dtype=np.float64),
        free_speed_kmh=np.array([e[3]["free_speed_kmh"] for e in edges], dtype=np.float64),
        lanes=np.array([e[3]["lanes"] for e in edges], dtype=np.int32),
        capacity_veh_per_h=np.array([e[3]["capacity_veh_per_h"] for e in edges], dtype=np.float64),
        bridge=np.array([e[3]["bridge"] for e in edges], dtype=bool),
        node_x_m=np.array([graph.nodes[i]["x"] for i in range(n)], dtype=np.float64),
        node_y_m=np.array([graph.nodes[i]["y"] for i in range(n)], dtype=np.float64),
    )


class _Builder:
    def __init__(self, grid: Grid, elevation_m: np.ndarray, big_rivers: shapely.Geometry):
        self.grid = grid
        self.z = np.nan_to_num(elevation_m, nan=float(np.nanmean(elevation_m)))
        self.rivers = big_rivers
        shapely.prepare(self.rivers)
        self.g = nx.MultiDiGraph(crs="EPSG:32648", source="generated")

    def node(self, x: float, y: float, kind: str, name: str = "") -> int:
        i = self.g.number_of_nodes()
        r, c = self.grid.rowcol(x, y)
        r = int(np.clip(r, 0, self.grid.nrows - 1))
        c = int(np.clip(c, 0, self.grid.ncols - 1))
        self.g.add_node(i, x=float(x), y=float(y), kind=kind, name=name, elevation_m=float(self.z[r, c]))
        return i

    def crosses(self, a: int, b: int) -> bool:
        na, nb = self.g.nodes[a], self.g.nodes[b]
        return bool(self.rivers.intersects(LineString([(na["x"], na["y"]), (nb["x"], nb["y"])])))

    def road_length(self, a: int, b: int, sinuosity: float) -> float:
        na, nb = self.g.nodes[a], self.g.nodes[b]
        flat = float(np.hypot(nb["x"] - na["x"], nb["y"] - na["y"]))
        n = max(2, int(flat / self.grid.cell_size_m) + 1)
        xs = np.linspace(na["x"], nb["x"], n)
        ys = np.linspace(na["y"], nb["y"], n)
        r, c = self.grid.rowcol(xs, ys)
        r = np.clip(r, 0, self.grid.nrows - 1)
        c = np.clip(c, 0, self.grid.ncols - 1)
        dz = np.diff(self.z[r, c])
        three_d = float(np.sum(np.hypot(flat / (n - 1), dz)))
        return max(three_d * sinuosity, 1.0)

    def link(self, a: int, b: int, road_class: str, bridge: bool | None = None) -> None:
        if a == b or self.g.has_edge(a, b):
            return
        speed, lanes, cap, sinuosity = ROAD_CLASSES[road_class]
        length = self.road_length(a, b, 1.0 if bridge else sinuosity)
        if bridge is None:
            bridge = self.crosses(a, b)
        grade = abs(self.g.nodes[b]["elevation_m"] - self.g.nodes[a]["elevation_m"]) / length
        if road_class != "expressway" and grade > 0.08:
            speed *= 0.7
        attrs = dict(length_m=length, free_speed_kmh=speed, lanes=lanes,
                     capacity_veh_per_h=cap * lanes, road_class=road_class, bridge=bool(bridge))
        self.g.add_edge(a, b, **attrs)
        self.g.add_edge(b, a, **attrs)


def _snap_to_land(grid: Grid, water: np.ndarray, mask: np.ndarray, x: float, y: float) -> tuple[float, float]:
    r, c = grid.rowcol(x, y)
    land = mask & ~water
    if grid.inside(r, c) and land[r, c]:
        return x, y
    _, (ir, ic) = ndimage.distance_transform_edt(~land, return_indices=True)
    r = int(np.clip(r, 0, grid.nrows - 1))
    c = int(np.clip(c, 0, grid.ncols - 1))
    xs, ys = grid.xy(ir[r, c], ic[r, c])
    return float(xs), float(ys)


def _outline_point(outline: Polygon, lonlat: tuple[float, float]) -> tuple[float, float]:
    x, y = project_lonlat(*lonlat)
    p = outline.exterior.interpolate(outline.exterior.project(shapely.Point(float(x), float(y))))
    inner = outline.buffer(-300.0)
    q = inner.exterior.interpolate(inner.exterior.project(p))
    return q.x, q.y


def generate_roads(grid: Grid, mask: np.ndarray, outline: Polygon, elevation_m: np.ndarray,
                   river_id: np.ndarray, big_rivers: dict[str, LineString], townships: list[Township],
                   population: np.ndarray, village_spacing_m: float,
                   rng: np.random.Generator) -> tuple[nx.MultiDiGraph, np.ndarray]:
    """Build the generated road graph; return it and the node index of each township centre.

    ``rng`` breaks ties between equally populated cells when placing village nodes (so sparsely
    settled uplands do not get a regular lattice).
    """
    water = (river_id == 1) | (river_id == 2)
    rivers = shapely.union_all([ln.intersection(outline.buffer(2000.0)) for ln in big_rivers.values()])
    b = _Builder(grid, elevation_m, rivers)
    tw_node = np.empty(len(townships), dtype=np.int64)
    by_name = {}
    for i, t in enumerate(townships):
        x, y = _snap_to_land(grid, water, mask, t.x_m, t.y_m)
        tw_node[i] = b.node(x, y, "township", t.name)
        by_name[t.name] = int(tw_node[i])

    # expressways through their waypoints, densified at ~3 km
    for name, waypoints in (("G50", G50_WAYPOINTS), ("G5012", G5012_WAYPOINTS)):
        nodes = []
        for wp in waypoints:
            if isinstance(wp, str):
                nodes.append(by_name[wp])
            else:
                x, y = _outline_point(outline, wp)
                nodes.append(b.node(x, y, "expressway", f"{name} boundary"))
        for a, c in zip(nodes, nodes[1:], strict=False):
            na, nc = b.g.nodes[a], b.g.nodes[c]
            d = np.hypot(nc["x"] - na["x"], nc["y"] - na["y"])
            k = max(1, int(d // 3000.0))
            prev = a
            for j in range(1, k):
                f = j / k
                mid = b.node(na["x"] + f * (nc["x"] - na["x"]), na["y"] + f * (nc["y"] - na["y"]),
                             "expressway", name)
                b.link(prev, mid, "expressway")
                prev = mid
            b.link(prev, c, "expressway")

    # trunk roads: Delaunay among township centres, bridges spaced along each river
    pts = np.array([[b.g.nodes[i]["x"], b.g.nodes[i]["y"]] for i in tw_node])
    tri = Delaunay(pts)
    cand = set()
    for s in tri.simplices:
        for u, v in ((s[0], s[1]), (s[1], s[2]), (s[0], s[2])):
            cand.add((min(u, v), max(u, v)))
    cand_list = sorted(cand, key=lambda e: (np.hypot(*(pts[e[0]] - pts[e[1]])), e))
    bridges_at: list[shapely.Point] = []
    for u, v in cand_list:
        a, c = int(tw_node[u]), int(tw_node[v])
        if np.hypot(*(pts[u] - pts[v])) > 30_000.0:
            continue
        seg = LineString([pts[u], pts[v]])
        if rivers.intersects(seg):
            where = rivers.intersection(seg)
            p = where.centroid
            if any(p.distance(q) < BRIDGE_SPACING_M for q in bridges_at):
                continue
            bridges_at.append(p)
            b.link(a, c, "trunk", bridge=True)
        else:
            b.link(a, c, "trunk", bridge=False)

    # village nodes: most populated cell of each block
    step = max(1, int(round(village_spacing_m / grid.cell_size_m)))
    pop = np.where(water, 0, population)
    rows, cols = np.nonzero(pop > 0)
    block = (rows // step) * (grid.ncols // step + 1) + cols // step
    jitter = rng.random(rows.size)
    order = np.lexsort((jitter, pop[rows, cols], block))  # last per block = max pop
    last = np.r_[block[order][1:] != block[order][:-1], True]
    hubs = order[last]
    hub_nodes = []
    tw_xy = cKDTree(pts)
    for h in hubs:
        x, y = grid.xy(rows[h], cols[h])
        if tw_xy.query([x, y])[0] < grid.cell_size_m * 2:
            continue  # the township node already serves this block
        hub_nodes.append(b.node(float(x), float(y), "village"))
    all_nodes = np.arange(b.g.number_of_nodes())
    xy = np.array([[b.g.nodes[i]["x"], b.g.nodes[i]["y"]] for i in all_nodes])
    tree = cKDTree(xy)
    for h in hub_nodes:
        dists, idx = tree.query(xy[h], k=min(8, len(all_nodes)))
        linked = 0
        for d, j in zip(np.atleast_1d(dists), np.atleast_1d(idx), strict=False):
            j = int(j)
            if j == h or d > 3.0 * village_spacing_m or b.crosses(h, j):
                continue
            b.link(h, j, "village", bridge=False)
            linked += 1
            if linked == 3:
                break

    _connect_components(b, xy)
    return b.g, tw_node


def _connect_components(b: _Builder, xy: np.ndarray) -> None:
    """Join weakly separated parts with their shortest links until the graph is strongly connected."""
    while True:
        comps = sorted(nx.strongly_connected_components(b.g), key=lambda c: (-len(c), min(c)))
        if len(comps) <= 1:
            return
        main = np.array(sorted(comps[0]))
        tree = cKDTree(xy[main])
        best = None
        for comp in comps[1:]:
            for u in sorted(comp):
                d, j = tree.query(xy[u])
                if best is None or d < best[0]:
                    best = (d, u, int(main[j]))
        _, u, v = best
        b.link(u, v, "village")


def cell_nodes(grid: Grid, mask: np.ndarray, water: np.ndarray, node_x: np.ndarray,
               node_y: np.ndarray) -> np.ndarray:
    """Return, for every land cell, the nearest road node on the same bank (-1 elsewhere).

    Banks are the connected land regions left when the big-river channels are removed; a cell in a
    region with no node falls back to the nearest node anywhere.
    """
    land = mask & ~water
    banks, n_banks = ndimage.label(land, structure=np.ones((3, 3)))
    out = np.full(grid.shape, -1, dtype=np.int64)
    nr, nc = grid.rowcol(node_x, node_y)
    ok = grid.inside(nr, nc)
    node_bank = np.zeros(node_x.size, dtype=np.int64)
    node_bank[ok] = banks[nr[ok], nc[ok]]
    all_tree = cKDTree(np.column_stack([node_x, node_y]))
    rows, cols = np.nonzero(land)
    x, y = grid.xy(rows, cols)
    cell_bank = banks[rows, cols]
    for bank in range(1, n_banks + 1):
        sel = cell_bank == bank
        members = np.flatnonzero(node_bank == bank)
        pts = np.column_stack([x[sel], y[sel]])
        if members.size:
            _, j = cKDTree(np.column_stack([node_x[members], node_y[members]])).query(pts)
            out[rows[sel], cols[sel]] = members[j]
        else:
            _, j = all_tree.query(pts)
            out[rows[sel], cols[sel]] = j
    return out


# ---------------------------------------------------------------------------------------------- import
def _default_attrs(data: dict) -> dict:
    hw = data.get("highway", data.get("road_class", "village"))
    if isinstance(hw, list):
        hw = hw[0]
    hw = str(hw)
    road_class = ("expressway" if hw in ("motorway", "motorway_link", "trunk", "expressway")
                  else "trunk" if hw in ("primary", "secondary", "trunk_link", "primary_link", "trunk")
                  else "village")
    speed, lanes, cap, _ = ROAD_CLASSES[road_class]
    return {"road_class": road_class, "free_speed_kmh": speed, "lanes": lanes, "capacity_per_lane": cap}


def _first_number(value, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, list):
        value = value[0]
    try:
        return float(str(value).split(";")[0].split()[0])
    except (ValueError, IndexError):
        return default


def normalise_graph(raw: nx.MultiDiGraph, source: Path, outline: Polygon, x_key: str = "x",
                    y_key: str = "y") -> nx.MultiDiGraph:
    """Relabel an imported graph to 0..n-1 with the project's edge attributes; check place and connectivity."""
    if raw.number_of_nodes() == 0:
        raise InputError(f"{source}: district.data.roads_path: the road file has no nodes. Fix: export a "
                         "road network with nodes and edges")
    try:
        xs = np.array([float(d[x_key]) for _, d in raw.nodes(data=True)])
        ys = np.array([float(d[y_key]) for _, d in raw.nodes(data=True)])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{source}: district.data.roads_path: every node needs numeric '{x_key}' and "
                         f"'{y_key}' attributes (UTM 48N metres, or lon/lat with graph attribute "
                         "crs='EPSG:4326'). Fix: export the graph with coordinates") from None
    crs = str(raw.graph.get("crs", "EPSG:32648")).upper()
    if crs in ("EPSG:4326", "WGS84", "EPSG:4490"):
        xs, ys = project_lonlat(xs, ys)
    elif crs != "EPSG:32648":
        raise InputError(f"{source}: district.data.roads_path: unsupported CRS {crs!r}. Fix: give node "
                         "coordinates in EPSG:32648 (UTM 48N metres) or EPSG:4326 (lon/lat)")
    inside = shapely.contains_xy(outline.buffer(5000.0), xs, ys)
    if inside.mean() < 0.5:
        raise InputError(
            f"{source}: district.data.roads_path: only {inside.mean():.0%} of the road nodes fall inside "
            f"the Fuling district (graph crs {crs}). Fix: check the CRS — lon/lat files need "
            "crs='EPSG:4326', projected ones must be EPSG:32648 metres")
    n_comp = nx.number_strongly_connected_components(raw)
    if n_comp > 1:
        sizes = sorted((len(c) for c in nx.strongly_connected_components(raw)), reverse=True)
        raise InputError(
            f"{source}: district.data.roads_path: the road network is not strongly connected "
            f"({n_comp} parts; sizes {sizes[:5]}…). Residents in the smaller parts could never reach a "
            "shelter. Fix: keep the largest strongly connected component (e.g. "
            "osmnx.truncate.largest_component(G, strongly=True)) or add the missing links")
    index = {n: i for i, n in enumerate(raw.nodes)}
    g = nx.MultiDiGraph(crs="EPSG:32648", source=str(source))
    for n, d in raw.nodes(data=True):
        i = index[n]
        g.add_node(i, x=float(xs[i]), y=float(ys[i]), kind=str(d.get("kind", "imported")),
                   name=str(d.get("name", "")), elevation_m=float(d.get("elevation_m", np.nan)))
    for u, v, d in raw.edges(data=True):
        dflt = _default_attrs(d)
        a, c = index[u], index[v]
        length = _first_number(d.get("length_m", d.get("length")), float(
            np.hypot(xs[c] - xs[a], ys[c] - ys[a])))
        lanes = int(_first_number(d.get("lanes"), dflt["lanes"]))
        g.add_edge(a, c,
                   length_m=max(length, 0.1),
                   free_speed_kmh=_first_number(d.get("free_speed_kmh", d.get("maxspeed")),
                                                dflt["free_speed_kmh"]),
                   lanes=max(lanes, 1),
                   capacity_veh_per_h=_first_number(d.get("capacity_veh_per_h"),
                                                    dflt["capacity_per_lane"] * max(lanes, 1)),
                   road_class=str(d.get("road_class", dflt["road_class"])),
                   bridge=str(d.get("bridge", "False")).lower() in ("true", "yes", "1"))
    return g


def read_roads(path: Path, outline: Polygon) -> nx.MultiDiGraph:
    """Read a GraphML or OSM XML road file into the project's road graph (see :func:`normalise_graph`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: district.data.roads_path: file not found. Fix: check the path")
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        try:
            raw = nx.read_graphml(path, force_multigraph=True)
        except Exception as exc:  # networkx raises several XML/parse errors
            raise InputError(f"{path}: district.data.roads_path: not a readable GraphML file ({exc}). "
                             "Fix: export with networkx.write_graphml or osmnx.save_graphml") from None
        if not raw.is_directed():
            raw = nx.MultiDiGraph(raw)
        return normalise_graph(raw, path, outline)
    if suffix in (".osm", ".xml"):
        import osmnx as ox

        try:
            raw = ox.graph_from_xml(path, simplify=True, retain_all=True)
        except Exception as exc:  # osmnx raises several XML/parse errors
            raise InputError(f"{path}: district.data.roads_path: not a readable OSM XML file ({exc}). "
                             "Fix: export an .osm file with nodes and highway ways") from None
        raw.graph["crs"] = "EPSG:4326"
        return normalise_graph(raw, path, outline)
    raise InputError(f"{path}: district.data.roads_path: unsupported road format {suffix!r}. "
                     "Fix: give a GraphML (.graphml) or OSM XML (.osm) file")
