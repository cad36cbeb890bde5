"""``emoface export``: turn a saved animation into an engine file on a rig.

    emoface export take.csv -o take.glb                    # default rig, 52 ARKit targets
    emoface export take.npz -o take.usda --rig ict         # ICT FaceKit from the shared data
    emoface export take.json -o take.glb --rig my_face.glb --mapping my_names.json
    emoface export take.csv -o avatar_talking.glb --onto avatar.glb   # animate the user's file
    emoface export take.npz -o take60.csv --fps 60         # another frame rate (resampled)
"""
from __future__ import annotations

from ..errors import UserError
from ..files import check_writable
from ..outputs import read, write, writer_for
from . import bounded

ENGINE_EXTENSIONS = (".glb", ".gltf", ".usda", ".usd")
MAX_FPS = 240.0


def add_export(sub) -> None:
    p = sub.add_parser(
        "export", help="write a saved animation as GLB/USD on a rig (or any other format)",
        description="Read an animation (.csv Live Link Face, .json, .npz, .glb, .usd[a]) and "
                    "write it in the format -o names. Engine formats (.glb .gltf .usda .usd) "
                    "carry a mesh with the 52 ARKit blendshapes and the animation.")
    p.add_argument("animation", help="animation file to read")
    p.add_argument("-o", "--output", required=True, help="output file (.glb .gltf .usda .usd "
                   ".csv .json .npz)")
    p.add_argument("--rig", default=None,
                   help="default | ict | a .glb/.gltf with morph targets | a folder of OBJ "
                        "shapes | an .npz rig (default: default)")
    p.add_argument("--mapping", default=None,
                   help='JSON retargeting the rig\'s shapes: {"shape": {"jawOpen": 1.0}}')
    p.add_argument("--onto", default=None, metavar="USER.glb",
                   help="keep this GLB as it is and add the animation to its morph targets "
                        "(output must be .glb)")
    p.add_argument("--fps", type=bounded("fps", 1.0, MAX_FPS), default=None,
                   help="resample the take to this frame rate (linear in time; e.g. 60 for a "
                        "Live Link CSV at the phone's rate, 24 or 25 for film); default: keep it")
    p.add_argument("--morph-normals", action="store_true",
                   help="GLB: also store per-target normal deltas (better shading, ~2x size)")
    p.set_defaults(func=_run_export)


def _run_export(args) -> int:
    from pathlib import Path


    out = Path(args.output)
    writer_for(out)  # unknown extension: fail before reading anything
    check_writable(out)
    engine = out.suffix.lower() in ENGINE_EXTENSIONS
    if not engine and (args.rig or args.mapping or args.onto or args.morph_normals):
        raise UserError(f"--rig, --mapping, --onto and --morph-normals apply to "
                        f"{'/'.join(ENGINE_EXTENSIONS)} outputs, not {out.suffix or out.name!r}")
    if args.onto and args.rig:
        raise UserError("give either --onto (animate your GLB) or --rig (build one), not both")
    if args.onto and out.suffix.lower() != ".glb":
        raise UserError(f"--onto writes a .glb; got {str(out)!r}")
    anim = read(args.animation)
    if args.fps is not None:
        anim = anim.resample(args.fps)
    options = {}
    if engine:
        options = {"rig": args.rig or "default", "mapping": args.mapping, "onto": args.onto}
        if args.morph_normals:
            options["morph_normals"] = True
    write(anim, out, **options)
    size = out.stat().st_size
    print(f"wrote {out} ({anim.num_frames} frames at {anim.fps:g} fps, {size / 1e6:.1f} MB)")
    return 0
