"""fuling-sim: agent-based disaster scenario simulator for Fuling District (涪陵区), Chongqing.

The engine package. It never imports ``models`` or ``streamlit`` (see DESIGN §2).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fuling-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
