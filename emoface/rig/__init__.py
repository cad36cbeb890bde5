"""Face rigs: meshes with blendshapes that ARKit weights can drive."""
from .model import Rig, mapping_by_name

__all__ = ["Rig", "mapping_by_name"]
