"""Where each household stands relative to the hazards: the command post's warning and order zones.

* ``river_spill_m`` — the level of water in the Yangtze/Wu channels at which the home connects to them
  (priority flood from the channel cells over the terrain): a river stage above it can reach the home.
* ``stream_height_m`` — height of the home above the nearest stream draining ≥ ``STREAM_KM2`` (a HAND
  that respects ridges): the flash-flood zone is a few metres of it.
* ``landslide_prone`` — the home lies on or within ``PRONE_BUFFER_CELLS`` of a landslide-prone cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sim.district import District
from sim.kernels.routing import spill_levels

STREAM_KM2 = 10.0
PRONE_BUFFER_CELLS = 2


@dataclass(frozen=True)
class Zones:
    """Per-household zone figures (arrays over households)."""

    river_spill_m: np.ndarray  # float64, m a.s.l. (inf where not connected)
    stream_height_m: np.ndarray  # float64, m
    landslide_prone: np.ndarray | None  # bool, None when the scenario has no landslides


def compute_zones(district: District, home_cell: np.ndarray, landslide=None) -> Zones:
    """Zone figures for homes at flat cells ``home_cell``; ``landslide`` is the run's LandslideField or None."""
    z = district.terrain.elevation_m
    rid = district.terrain.river_id
    big = (rid == 1) | (rid == 2)
    spill, _ = spill_levels(z, district.mask, big)
    streams = big | (np.nan_to_num(district.terrain.flow_accumulation_km2) >= STREAM_KM2)
    s_spill, s_base = spill_levels(z, district.mask, streams)
    river_spill = np.nan_to_num(spill.ravel()[home_cell], nan=np.inf)
    height = np.nan_to_num((s_spill - s_base).ravel()[home_cell], nan=np.inf)
    prone = None
    if landslide is not None:
        s = landslide.fields["landslide__susceptibility"] >= (landslide.params.prone_susceptibility
                                                              * landslide.hazard.susceptibility_scale)
        s = ndimage.binary_dilation(s, iterations=PRONE_BUFFER_CELLS)
        prone = s.ravel()[home_cell]
    return Zones(river_spill, height, prone)
