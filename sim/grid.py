"""The raster grid over the district: geometry, masks and coordinate conversion (UTM 48N metres)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Grid:
    """A north-up raster. Row 0 is the northern edge; cell (r, c) has its centre at ``xy(r, c)``.

    Attributes
    ----------
    x0_m, y0_m : west and north edges of the grid, UTM 48N metres.
    cell_size_m : cell edge length, metres.
    nrows, ncols : grid shape.
    """

    x0_m: float
    y0_m: float
    cell_size_m: float
    nrows: int
    ncols: int

    @classmethod
    def covering(cls, geom: BaseGeometry, cell_size_m: float, pad_cells: int = 2) -> Grid:
        """Return the grid aligned to multiples of the cell size that covers ``geom``."""
        minx, miny, maxx, maxy = geom.bounds
        s = float(cell_size_m)
        x0 = np.floor(minx / s) * s - pad_cells * s
        y0 = np.ceil(maxy / s) * s + pad_cells * s
        ncols = int(np.ceil((maxx - x0) / s)) + pad_cells
        nrows = int(np.ceil((y0 - miny) / s)) + pad_cells
        return cls(float(x0), float(y0), s, nrows, ncols)

    @property
    def shape(self) -> tuple[int, int]:
        """(nrows, ncols)."""
        return (self.nrows, self.ncols)

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell, m²."""
        return self.cell_size_m**2

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 1-D x (per column) and y (per row) of cell centres, metres."""
        s = self.cell_size_m
        xs = self.x0_m + (np.arange(self.ncols) + 0.5) * s
        ys = self.y0_m - (np.arange(self.nrows) + 0.5) * s
        return xs, ys

    def xy(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return cell-centre x, y (metres) of the given rows/cols."""
        s = self.cell_size_m
        return self.x0_m + (np.asarray(cols) + 0.5) * s, self.y0_m - (np.asarray(rows) + 0.5) * s

    def rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the (row, col) of the cell containing each point (may fall outside the grid)."""
        s = self.cell_size_m
        cols = np.floor((np.asarray(x, dtype=float) - self.x0_m) / s).astype(np.int64)
        rows = np.floor((self.y0_m - np.asarray(y, dtype=float)) / s).astype(np.int64)
        return rows, cols

    def inside(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Return True where (row, col) lies on the grid."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        return (rows >= 0) & (cols >= 0) & (rows < self.nrows) & (cols < self.ncols)

    def mask_of(self, geom: BaseGeometry) -> np.ndarray:
        """Return True for cells whose centre lies inside ``geom``."""
        xs, ys = self.centres()
        out = np.zeros(self.shape, dtype=bool)
        shapely.prepare(geom)
        for r in range(self.nrows):  # row by row keeps memory flat at 30 m
            out[r] = shapely.contains_xy(geom, xs, np.full(self.ncols, ys[r]))
        return out

    def line_mask(self, line: BaseGeometry, step_frac: float = 0.25) -> np.ndarray:
        """Return True for cells a polyline passes through (sampled at ``step_frac`` of a cell)."""
        n = max(2, int(line.length / (self.cell_size_m * step_frac)) + 1)
        pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n))
        x, y = shapely.get_x(pts), shapely.get_y(pts)
        r, c = self.rowcol(x, y)
        ok = self.inside(r, c)
        out = np.zeros(self.shape, dtype=bool)
        out[r[ok], c[ok]] = True
        return out

    def to_dict(self) -> dict[str, float | int]:
        """Return a JSON-ready description."""
        return {"x0_m": self.x0_m, "y0_m": self.y0_m, "cell_size_m": self.cell_size_m,
                "nrows": self.nrows, "ncols": self.ncols, "crs": "EPSG:32648"}
