"""The integrated district model (Mesa): residents, warnings, evacuation, shelters, teams and depots."""

from models.district.model import DistrictModel
from models.district.params import ModelParams

__all__ = ["DistrictModel", "ModelParams"]
