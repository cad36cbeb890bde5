"""USD export (``.usda`` text, ``.usd`` binary crate): a UsdSkel character.

Stage layout::

    /Face                 SkelRoot (default prim); up axis Y, metersPerUnit from the rig
      Skel                Skeleton with one joint, "head", at the head pivot
        Anim              SkelAnimation: blendShapes = the 52 ARKit names,
                          blendShapeWeights sampled once per frame, head joint rotations
      Mesh                the rig's mesh, SkelBindingAPI: bound rigidly to "head" and to
        <arkitName>...    one BlendShape per ARKit name that moves anything (sparse offsets)
        <material>...     GeomSubsets bound to UsdPreviewSurface materials under /Face/Looks

Time code ``i`` is frame ``i``; ``timeCodesPerSecond = framesPerSecond = fps``. Axes, units
of head rotation and the baking of a rig's shapes into ARKit targets are as for the GLB
export (:mod:`emoface.export.scene`). Eye rotations are not written.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..animation import Animation
from ..arkit import ARKIT_NAMES
from ..errors import UserError
from ..files import atomic_path
from ..rig import load_rig
from ..rig.mapping import UserMapping
from ..rig.model import Rig
from .names import weights_by_name
from .scene import (
    arkit_deltas,
    head_pivot,
    head_quaternions,
    material_groups,
    material_look,
    metres_per_unit,
    quaternions_to_head,
    vertex_normals,
)

ROOT = "/Face"
JOINT = "head"


def build_stage(anim: Animation, rig: Rig):
    """An in-memory ``Usd.Stage`` holding ``rig`` animated by ``anim``."""
    from pxr import Gf, Sdf, Usd, UsdGeom, UsdSkel, Vt

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, metres_per_unit(rig))
    stage.SetTimeCodesPerSecond(anim.fps)
    stage.SetFramesPerSecond(anim.fps)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(max(anim.num_frames - 1, 0))

    root = UsdSkel.Root.Define(stage, ROOT)
    stage.SetDefaultPrim(root.GetPrim())
    pivot = head_pivot(rig)
    at_pivot = Gf.Matrix4d(1.0).SetTranslate(Gf.Vec3d(*pivot))

    skel = UsdSkel.Skeleton.Define(stage, f"{ROOT}/Skel")
    skel.CreateJointsAttr([JOINT])
    skel.CreateBindTransformsAttr(Vt.Matrix4dArray([at_pivot]))
    skel.CreateRestTransformsAttr(Vt.Matrix4dArray([at_pivot]))

    skel_anim = UsdSkel.Animation.Define(stage, f"{ROOT}/Skel/Anim")
    skel_anim.CreateJointsAttr([JOINT])
    skel_anim.CreateBlendShapesAttr(list(ARKIT_NAMES))
    skel_anim.CreateTranslationsAttr(Vt.Vec3fArray([Gf.Vec3f(*pivot)]))
    skel_anim.CreateScalesAttr(Vt.Vec3hArray([Gf.Vec3h(1, 1, 1)]))
    weights_attr = skel_anim.CreateBlendShapeWeightsAttr()
    for i, row in enumerate(anim.weights):
        weights_attr.Set(Vt.FloatArray.FromNumpy(row), Usd.TimeCode(i))
    rotations = skel_anim.CreateRotationsAttr()
    if anim.head is not None:
        for i, (x, y, z, w) in enumerate(head_quaternions(anim.head)):
            rotations.Set(Vt.QuatfArray([Gf.Quatf(float(w), float(x), float(y), float(z))]),
                          Usd.TimeCode(i))
    else:
        rotations.Set(Vt.QuatfArray([Gf.Quatf(1, 0, 0, 0)]))
    UsdSkel.BindingAPI.Apply(skel.GetPrim()).CreateAnimationSourceRel().SetTargets(
        [skel_anim.GetPath()])

    mesh_path = f"{ROOT}/Mesh"
    mesh = UsdGeom.Mesh.Define(stage, mesh_path)
    points = rig.neutral.astype(np.float32)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(
        np.full(len(rig.triangles), 3, np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(
        rig.triangles.astype(np.int32).reshape(-1)))
    normals = rig.normals if rig.normals is not None else vertex_normals(points, rig.triangles)
    mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(normals, np.float32)))
    mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)  # a scanned face, not a cage
    mesh.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*points.min(0).tolist()),
                                         Gf.Vec3f(*points.max(0).tolist())]))
    if rig.uvs is not None and len(rig.uvs) == len(points):
        UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
            "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
        ).Set(Vt.Vec2fArray.FromNumpy(rig.uvs.astype(np.float32)))

    binding = UsdSkel.BindingAPI.Apply(mesh.GetPrim())
    binding.CreateSkeletonRel().SetTargets([skel.GetPath()])
    binding.CreateJointIndicesPrimvar(True, 1).Set(Vt.IntArray([0]))
    binding.CreateJointWeightsPrimvar(True, 1).Set(Vt.FloatArray([1.0]))
    binding.CreateGeomBindTransformAttr(Gf.Matrix4d(1.0))

    deltas = arkit_deltas(rig)
    tolerance = 1e-6 * float(np.ptp(points, axis=0).max() or 1.0)
    shape_names, shape_paths = [], []
    for name, delta in zip(ARKIT_NAMES, deltas):
        moving = np.flatnonzero(np.abs(delta).max(1) > tolerance)
        if not len(moving):  # nothing to deform: leave the channel unbound on this mesh
            continue
        shape = UsdSkel.BlendShape.Define(stage, f"{mesh_path}/{name}")
        if len(moving) < len(points):
            shape.CreatePointIndicesAttr(Vt.IntArray.FromNumpy(moving.astype(np.int32)))
            shape.CreateOffsetsAttr(Vt.Vec3fArray.FromNumpy(delta[moving]))
        else:
            shape.CreateOffsetsAttr(Vt.Vec3fArray.FromNumpy(delta))
        shape_names.append(name)
        shape_paths.append(shape.GetPath())
    binding.CreateBlendShapesAttr(shape_names)
    binding.CreateBlendShapeTargetsRel().SetTargets(shape_paths)

    _materials(stage, mesh, rig)
    return stage


def _materials(stage, mesh, rig: Rig) -> None:
    from pxr import Gf, Sdf, UsdGeom, UsdShade, Vt

    groups = material_groups(rig)
    looks = UsdGeom.Scope.Define(stage, f"{ROOT}/Looks")
    used: set[str] = set()
    for name, tri_index, srgb in groups:
        prim_name = _prim_name(name, used)
        colour, alpha, roughness = material_look(name, srgb)
        material = UsdShade.Material.Define(stage, looks.GetPath().AppendChild(prim_name))
        shader = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("Surface"))
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*colour))
        shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(roughness)
        shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
        if alpha < 1.0:
            shader.CreateInput("opacity", Sdf.ValueTypeNames.Float).Set(alpha)
        material.CreateSurfaceOutput().ConnectToSource(
            shader.ConnectableAPI(), "surface")
        if len(groups) == 1:
            UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(material)
            return
        subset = UsdGeom.Subset.Define(stage, mesh.GetPath().AppendChild(f"{prim_name}_faces"))
        subset.CreateElementTypeAttr(UsdGeom.Tokens.face)
        subset.CreateFamilyNameAttr(UsdShade.Tokens.materialBind)
        subset.CreateIndicesAttr(Vt.IntArray.FromNumpy(tri_index.astype(np.int32)))
        UsdShade.MaterialBindingAPI.Apply(subset.GetPrim()).Bind(material)
    UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim())
    UsdGeom.Subset.SetFamilyType(mesh, UsdShade.Tokens.materialBind,
                                 UsdGeom.Tokens.nonOverlapping)


def _prim_name(name: str, used: set[str]) -> str:
    import re

    base = re.sub(r"\W", "_", name) or "material"
    if base[0].isdigit():
        base = f"m_{base}"
    out, n = base, 1
    while out in used:
        n += 1
        out = f"{base}_{n}"
    used.add(out)
    return out


def write_usd(anim: Animation, path: str | Path, rig: Rig | str | os.PathLike = "default",
              mapping: UserMapping | str | os.PathLike | None = None, **_options) -> None:
    """Writer for ``.usda`` (text) and ``.usd`` (binary crate)."""
    if anim.num_frames == 0:
        raise UserError(f"nothing to write to {str(path)!r}: the animation has no frames")
    rig = load_rig("default" if rig is None else rig, mapping)
    stage = build_stage(anim, rig)
    fmt = "usda" if Path(path).suffix.lower() == ".usda" else "usdc"
    with atomic_path(path) as tmp:
        if not stage.GetRootLayer().Export(str(tmp), comment="written by emoface",
                                           args={"format": fmt}):
            raise OSError(f"USD could not write {str(path)!r}")


def read_usd_animation(path: str | Path) -> Animation:
    """The first SkelAnimation's ARKit weights (one frame per time sample) and head joint."""
    from pxr import Usd, UsdSkel

    src = repr(str(path))
    try:
        stage = Usd.Stage.Open(str(path))
    except Exception:  # noqa: BLE001 -- pxr raises Tf.ErrorException (C++ internals)
        raise UserError(f"{src} is not a readable USD file") from None
    for prim in stage.Traverse():
        if not prim.IsA(UsdSkel.Animation):
            continue
        skel_anim = UsdSkel.Animation(prim)
        names = [str(n) for n in skel_anim.GetBlendShapesAttr().Get() or []]
        attr = skel_anim.GetBlendShapeWeightsAttr()
        times = attr.GetTimeSamples()
        if not names or not times:
            continue
        values = np.array([np.asarray(attr.Get(t), np.float32) for t in times])
        weights = weights_by_name(values, names, src)
        head = None
        joints = [str(j) for j in skel_anim.GetJointsAttr().Get() or []]
        rot_attr = skel_anim.GetRotationsAttr()
        if JOINT in joints and rot_attr.GetNumTimeSamples() == len(times):
            j = joints.index(JOINT)
            quats = []
            for t in times:
                q = rot_attr.Get(t)[j]
                im = q.GetImaginary()
                quats.append([im[0], im[1], im[2], q.GetReal()])
            head = quaternions_to_head(np.array(quats))
        fps = stage.GetTimeCodesPerSecond() or 30.0
        return Animation(np.clip(weights, 0, 1), fps, head=head, meta={"source": str(path)})
    raise UserError(f"{src} has no SkelAnimation with blend shape weights")


def check_usd(path: str | Path) -> list[str]:
    """Problems USD's own validators find in a file ("ERROR: ..." / "WARNING: ..." lines).

    Uses ``UsdUtils.ComplianceChecker`` where this usd-core has it (it was retired in
    favour of the UsdValidation framework, which is used otherwise)."""
    from pxr import Usd, UsdUtils

    checker_type = getattr(UsdUtils, "ComplianceChecker", None)
    if checker_type is not None:
        checker = checker_type()
        checker.CheckCompliance(str(path))
        return ([f"ERROR: {e}" for e in checker.GetErrors()]
                + [f"FAILED: {e}" for e in checker.GetFailedChecks()]
                + [f"WARNING: {w}" for w in checker.GetWarnings()])
    from pxr import UsdValidation

    registry = UsdValidation.ValidationRegistry()
    validators = registry.GetOrLoadAllValidators()
    context = UsdValidation.ValidationContext(validators)
    stage = Usd.Stage.Open(str(path))
    out = []
    for error in context.Validate(stage):
        kind = str(error.GetType()).rsplit(".", 1)[-1].upper()
        out.append(f"{kind}: {error.GetIdentifier()}: {error.GetMessage()}")
    return out
