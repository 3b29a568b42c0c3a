"""Terrain: generated (reproducible, labelled *generated*) or read from a user DEM.

The generated terrain is not a survey. It is constrained to published facts about Fuling
(``scenarios/fuling/fuling_facts_and_events.json``): river surfaces of the Three Gorges reservoir at
~145–175 m, the city ~287 m, the NE–SW ridge-and-valley landform of the East Sichuan fold belt, the
south-east upland rising to ~1,985 m around Wulingshan/Damu, and Longtan's upland basin at ~670 m
(nearby tops ~929 m). Large-scale noise is drawn on a fixed 200 m lattice and interpolated, so the same
seed gives the same landscape at every cell size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry import LineString

from sim.geo import project_lonlat
from sim.grid import Grid
from sim.kernels.routing import d8_receivers, fill_depressions, flow_accumulation
from sim.yamlio import InputError

PEAK_ELEVATION_M = 1985.0  # Wulingshan forest park 1015–1985 m (facts file)
LONGTAN_FLOOR_M = 670.0  # Longtan town seat (facts file)
LONGTAN_RIM_M = 929.0  # max nearby (facts file)
UPLAND_CENTRE_LONLAT = (107.625, 29.565)  # between Wulingshan and Damu township centres
LONGTAN_LONLAT = (107.101228, 29.447276)  # Longtan township centre (WGS84)
STRIKE_DEG = 35.0  # fold-belt ridge strike, degrees clockwise from north (NE–SW)

# Channel geometry of the big rivers (assumptions; the reservoir widens both channels).
RIVER_SHAPES = {
    #        half-width m, valley width m, bed upstream m, bed downstream m
    "yangtze": (350.0, 2500.0, 150.0, 145.0),
    "wu": (150.0, 1500.0, 160.0, 147.0),
}

#  Tributary mouths that the published record lets us place (see scenarios/fuling/README.md).
NAMED_TRIBUTARY_MOUTHS = {
    "梨香溪 Lixiang Xi": (107.195, 29.663),  # mouth at Linshi (蔺市) on the Yangtze's south bank
    "渠溪河 Quxi He": (107.4889, 29.9024),  # GeoNames point near the Yangtze, north bank (Zhenxi)
}


@dataclass(frozen=True)
class Terrain:
    """Elevation and derived fields on the grid (NaN / -1 / 0 outside the mask).

    Attributes
    ----------
    elevation_m : float32 (nrows, ncols), metres a.s.l.
    slope_deg : float32, steepest slope, degrees.
    aspect_deg : float32, downslope direction, degrees clockwise from north.
    flow_receiver : int64, flat index of the D8 receiver, -1 at outlets and outside.
    flow_dir_d8 : int32, ESRI D8 code (1=E, 2=SE, 4=S, …, 128=NE), 0 at outlets.
    flow_accumulation_km2 : float32, drainage area, km².
    river_id : int8, 0 land, 1 Yangtze channel, 2 Wu channel, 3 generated tributary.
    source : "generated" or the DEM path.
    """

    elevation_m: np.ndarray
    slope_deg: np.ndarray
    aspect_deg: np.ndarray
    flow_receiver: np.ndarray
    flow_dir_d8: np.ndarray
    flow_accumulation_km2: np.ndarray
    river_id: np.ndarray
    source: str


def _noise_field(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """Return zero-mean, unit-std power-law (k^-beta) noise on a lattice."""
    white = rng.standard_normal(shape)
    f = np.fft.rfft2(white)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    k = np.sqrt(kx**2 + ky**2)
    k[0, 0] = np.inf
    field = np.fft.irfft2(f * k ** (-beta / 2.0), s=shape)
    return (field - field.mean()) / field.std()


def _lattice_noise(grid: Grid, rng: np.random.Generator, beta: float, lattice_m: float = 200.0,
                   extent: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Noise drawn on a fixed lattice covering ``extent`` and bilinearly sampled at the grid cells."""
    x0, y1, x1, y0 = extent  # west, north, east, south
    n_x = int(np.ceil((x1 - x0) / lattice_m)) + 2
    n_y = int(np.ceil((y1 - y0) / lattice_m)) + 2
    lat = _noise_field(rng, (n_y, n_x), beta)
    xs, ys = grid.centres()
    cols = (xs - x0) / lattice_m
    rows = (y1 - ys) / lattice_m
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return ndimage.map_coordinates(lat, [rr, cc], order=1, mode="nearest").astype(np.float64)


def generate_elevation(grid: Grid, mask: np.ndarray, rivers: dict[str, LineString], seed: int,
                       extent: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Generate the elevation (metres) and the big-river channel id (1 Yangtze, 2 Wu).

    ``extent`` (west, north, east, south, metres) fixes the noise lattice independently of the cell size.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    xs, ys = grid.centres()
    X, Y = np.meshgrid(xs, ys)
    west, north, east, south = extent
    # regional trend: low in the north-west (Yangtze corridor), rising to the south-east
    sx = (X - west) / (east - west)
    sy = (north - Y) / (north - south)
    z = 330.0 + 260.0 * (0.55 * sx + 0.45 * sy)
    # NE–SW ridges: narrow anticline ridges, broad synclinal valleys (East Sichuan fold belt)
    th = np.deg2rad(STRIKE_DEG)
    across = X * np.cos(th) - Y * np.sin(th)
    along = X * np.sin(th) + Y * np.cos(th)
    wobble = 2500.0 * _lattice_noise(grid, rng, 3.5, extent=extent)
    phase = 2 * np.pi * (across + wobble) / 17_000.0
    plunge = 0.6 + 0.4 * np.sin(2 * np.pi * along / 55_000.0)
    z += 380.0 * plunge * np.clip(np.cos(phase), 0, None) ** 3
    # south-east upland (Wulingshan / Damu)
    ux, uy = project_lonlat(*UPLAND_CENTRE_LONLAT)
    d_up = np.hypot(X - ux, Y - uy)
    dome = np.exp(-((d_up / 14_000.0) ** 2))
    z += 1100.0 * dome
    # texture
    z += 70.0 * _lattice_noise(grid, rng, 3.0, extent=extent)
    z += 18.0 * _lattice_noise(grid, rng, 2.2, extent=extent)
    # stretch so the upland top reaches the published peak, keeping the low end fixed
    inside = mask
    zmax = z[inside].max()
    zlow = np.percentile(z[inside], 1)
    z = zlow + (z - zlow) * (PEAK_ELEVATION_M - zlow) / (zmax - zlow)
    # Longtan upland basin: floor ~670 m, rim ~929 m
    lx, ly = project_lonlat(*LONGTAN_LONLAT)
    d_lt = np.hypot(X - lx, Y - ly)
    basin = LONGTAN_FLOOR_M + (LONGTAN_RIM_M - LONGTAN_FLOOR_M) * (1 - np.exp(-((d_lt / 3500.0) ** 2)))
    w = np.exp(-((d_lt / 7000.0) ** 2))
    z = (1 - w) * z + w * basin
    # carve the big-river valleys along the real centre-lines
    river_id = np.zeros(grid.shape, dtype=np.int8)
    for rid, (name, line) in enumerate(rivers.items(), start=1):
        half_w, valley_w, bed_up, bed_down = RIVER_SHAPES[name]
        on_line = grid.line_mask(line)
        dist, (ir, ic) = ndimage.distance_transform_edt(~on_line, return_indices=True)
        dist *= grid.cell_size_m
        # bed elevation from the chainage of the nearest centre-line cell
        lr, lc = np.nonzero(on_line)
        lx_, ly_ = grid.xy(lr, lc)
        chain = shapely.line_locate_point(line, shapely.points(lx_, ly_)) / line.length
        chain_grid = np.zeros(grid.shape)
        chain_grid[lr, lc] = chain
        bed = bed_up + (bed_down - bed_up) * chain_grid[ir, ic]
        excess = np.clip(dist - half_w, 0, None)
        shape_f = 1.0 - np.exp(-((excess / valley_w) ** 2))
        carved = bed + np.clip(z - bed, 0, None) * shape_f
        z = np.minimum(z, carved)
        channel = dist <= half_w
        river_id[channel & (river_id == 0)] = rid
    z = np.where(mask, z, np.nan)
    return z.astype(np.float64), np.where(mask, river_id, 0).astype(np.int8)


def slope_aspect(elevation_m: np.ndarray, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return slope (degrees) and downslope aspect (degrees clockwise from north)."""
    nan = np.isnan(elevation_m)
    _, (ir, ic) = ndimage.distance_transform_edt(nan, return_indices=True)
    z = elevation_m[ir, ic]  # nearest valid value outside the mask: no false cliffs at the edge
    dz_drow, dz_dcol = np.gradient(z, cell_size_m)
    dz_dx = dz_dcol
    dz_dy = -dz_drow  # rows run south
    slope = np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))
    aspect = (np.degrees(np.arctan2(-dz_dx, -dz_dy)) + 360.0) % 360.0
    return np.where(nan, np.nan, slope).astype(np.float32), np.where(nan, np.nan, aspect).astype(np.float32)


def derive_terrain(grid: Grid, mask: np.ndarray, elevation_m: np.ndarray, river_id: np.ndarray,
                   tributary_min_area_km2: float, source: str) -> Terrain:
    """Route flow, mark tributaries and incise them slightly; compute slope and aspect."""
    filled, order = fill_depressions(elevation_m, mask)
    receiver, code = d8_receivers(filled, mask, grid.cell_size_m)
    area = np.where(mask, grid.cell_area_m2 / 1e6, 0.0)
    acc = flow_accumulation(order, receiver, area)
    river_id = river_id.copy()
    streams = mask & (acc >= tributary_min_area_km2) & (river_id == 0)
    river_id[streams] = 3
    # gentle incision (2-8 m, growing with drainage area) so channels show in the hazard fields;
    # incision never decreases downstream, so no pits are created
    z = elevation_m.copy()
    inc = np.clip(2.0 * np.log10(np.maximum(acc, 1e-9) / tributary_min_area_km2 * 10.0), 2.0, 8.0)
    z[streams] -= inc[streams]
    # the big rivers stay the valley lows: no land cell ends at or below the nearest channel bed
    big = (river_id == 1) | (river_id == 2)
    if big.any():
        _, (ir, ic) = ndimage.distance_transform_edt(~big, return_indices=True)
        floor = elevation_m[ir, ic] + 0.5
        land = mask & ~big
        z[land] = np.maximum(z[land], floor[land])
    slope, aspect = slope_aspect(z, grid.cell_size_m)
    return Terrain(
        elevation_m=z.astype(np.float32), slope_deg=slope, aspect_deg=aspect,
        flow_receiver=receiver, flow_dir_d8=code, flow_accumulation_km2=acc.astype(np.float32),
        river_id=river_id, source=source,
    )


def read_dem(path: Path, grid: Grid, mask: np.ndarray) -> np.ndarray:
    """Read a GeoTIFF or ESRI ASCII DEM and resample it (bilinear) onto the grid.

    Raises :class:`InputError` for an unknown format, a missing CRS, or a DEM that does not cover
    the district outline. ESRI ASCII grids carry no CRS: a ``.prj`` beside the file is used,
    otherwise EPSG:32648 (UTM 48N metres) is assumed and checked by coverage.
    """
    import rasterio
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.errors import RasterioIOError
    from rasterio.transform import Affine
    from rasterio.warp import reproject

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".tif", ".tiff", ".asc"):
        raise InputError(f"{path}: district.data.dem_path: unsupported DEM format {suffix!r}. "
                         "Fix: give a GeoTIFF (.tif) or an ESRI ASCII grid (.asc)")
    if not path.exists():
        raise InputError(f"{path}: district.data.dem_path: file not found. Fix: check the path")
    try:
        with rasterio.open(path) as src:
            crs = src.crs
            if crs is None and suffix == ".asc":
                crs = CRS.from_epsg(32648)
            if crs is None:
                raise InputError(f"{path}: district.data.dem_path: the GeoTIFF has no CRS. Fix: assign one, "
                                 "e.g. `gdal_edit.py -a_srs EPSG:32648 dem.tif`")
            band = src.read(1, masked=True).astype(np.float64)
            src_arr = band.filled(np.nan)
            src_transform = src.transform
    except RasterioIOError as exc:
        raise InputError(f"{path}: district.data.dem_path: cannot read the DEM ({exc}). "
                         "Fix: check that it is a valid GeoTIFF or ESRI ASCII grid") from None
    dst = np.full(grid.shape, np.nan)
    dst_transform = Affine(grid.cell_size_m, 0, grid.x0_m, 0, -grid.cell_size_m, grid.y0_m)
    reproject(src_arr, dst, src_transform=src_transform, src_crs=crs, src_nodata=np.nan,
              dst_transform=dst_transform, dst_crs=CRS.from_epsg(32648), dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    missing = mask & ~np.isfinite(dst)
    if missing.any():
        share = missing.sum() / mask.sum()
        raise InputError(
            f"{path}: district.data.dem_path: the DEM does not cover the district outline "
            f"({share:.1%} of district cells have no data; the DEM's CRS is {crs.to_string()}). "
            "Fix: use a DEM that covers 106.94–107.72 E, 29.36–30.01 N, and check that its CRS is right")
    finite = dst[mask]
    if finite.min() < -500 or finite.max() > 9000:
        raise InputError(f"{path}: district.data.dem_path: elevations {finite.min():.0f}…{finite.max():.0f} "
                         "are not plausible metres. Fix: give elevations in metres above sea level")
    return np.where(mask, dst, np.nan)


def channel_ids_for_dem(grid: Grid, mask: np.ndarray, rivers: dict[str, LineString]) -> np.ndarray:
    """Mark big-river channel cells along the real centre-lines (used with a user DEM)."""
    river_id = np.zeros(grid.shape, dtype=np.int8)
    for rid, (name, line) in enumerate(rivers.items(), start=1):
        half_w = RIVER_SHAPES[name][0]
        dist = ndimage.distance_transform_edt(~grid.line_mask(line)) * grid.cell_size_m
        river_id[(dist <= half_w) & (river_id == 0) & mask] = rid
    return river_id
