"""Offscreen OpenGL rendering of a rig driven by ARKit weights, head and eye rotations.

Uses moderngl on EGL (Mesa llvmpipe on a CPU-only machine): one draw call per frame,
smooth shading from normals recomputed on the deformed mesh, three lights, 4x MSAA.

Rotation conventions (Live Link Face's, checked against its eyeLook curves):
``yaw > 0`` turns toward -X (the character's right), ``pitch > 0`` looks down,
``roll > 0`` tilts the top of the head toward -X. Radians throughout.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UserError
from ..rig.model import Rig
from .mesh import RenderMesh, fast_normals

VIEWS = ("front", "three-quarter", "side")

_VERTEX_SHADER = """
#version 330
uniform mat4 u_viewproj;
uniform mat3 u_head;
uniform vec3 u_pivot;
in vec3 in_pos;
in vec3 in_nrm;
in vec4 in_col;
out vec3 v_pos;
out vec3 v_nrm;
out vec4 v_col;
void main() {
    vec3 p = u_head * (in_pos - u_pivot) + u_pivot;
    v_pos = p;
    v_nrm = u_head * in_nrm;
    v_col = in_col;
    gl_Position = u_viewproj * vec4(p, 1.0);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec3 u_eye;
uniform vec3 u_light_dir[3];
uniform vec3 u_light_col[3];
in vec3 v_pos;
in vec3 v_nrm;
in vec4 v_col;
out vec4 f_color;
void main() {
    vec3 n = normalize(v_nrm);
    vec3 v = normalize(u_eye - v_pos);
    // Open meshes (mouth interior, ICT's shells) are seen from both sides.
    if (dot(n, v) < 0.0) n = -n;
    vec3 albedo = v_col.rgb;
    vec3 col = albedo * (0.16 + 0.08 * n.y);
    for (int i = 0; i < 3; i++) {
        vec3 l = u_light_dir[i];
        float d = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float s = pow(max(dot(n, h), 0.0), 48.0) * v_col.a;
        col += u_light_col[i] * (albedo * d + s);
    }
    // Soft rim keeps the silhouette readable against the background.
    col += albedo * 0.25 * pow(1.0 - max(dot(n, v), 0.0), 3.0);
    f_color = vec4(pow(clamp(col, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

BACKGROUND = (0.20, 0.21, 0.23)


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], np.float64)


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float64)


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float64)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3x3 matrix for Live Link yaw/pitch/roll (see the module docstring for signs)."""
    return _rz(roll) @ _rx(pitch) @ _ry(-yaw)


def _look_at(eye, target, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    eye, target, up = (np.asarray(x, np.float64) for x in (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = r, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def _perspective(fov_y: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(fov_y / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def create_context():
    try:
        import moderngl
    except ImportError:
        raise UserError("rendering needs moderngl: pip install 'emoface[render]'") from None
    # moderngl/glcontext raise plain Exceptions when a backend is unavailable.
    try:
        return moderngl.create_context(standalone=True, backend="egl")
    except Exception:  # noqa: BLE001
        try:  # no EGL: let moderngl pick (GLX/WGL/CGL) before giving up
            return moderngl.create_context(standalone=True)
        except Exception as exc:  # noqa: BLE001
            raise UserError(f"cannot create an OpenGL context for rendering ({exc})") from None


class FaceRenderer:
    """Renders frames of ``rig`` at ``size`` x ``size`` pixels (or ``(width, height)``).

    >>> r = FaceRenderer(load_default_rig(), size=256)
    >>> img = r.render(weights)   # (256, 256, 3) uint8
    >>> r.release()               # GL objects (and the context it made)

    ``samples`` > 0 turns on MSAA (4 is good for stills); llvmpipe pays about 3x for it,
    so videos render without.
    """

    FOV = math.radians(22.0)

    def __init__(self, rig: Rig, size: int | tuple[int, int] = 512, view: str = "three-quarter",
                 samples: int = 0, ctx=None, framing: dict | None = None):
        if view not in VIEWS:
            raise UserError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}")
        self.rig = rig
        self.width, self.height = (size, size) if isinstance(size, int) else size
        if self.width < 16 or self.height < 16:
            raise UserError(f"image size {self.width}x{self.height} is too small (16 at least)")
        self.mesh = RenderMesh.from_rig(rig)
        used = self.mesh.used
        self._neutral = rig.neutral[used].astype(np.float32)
        s = len(rig.deltas)
        self._deltas = rig.deltas[:, used].reshape(s, -1).astype(np.float32)
        self._mapping = rig.mapping.astype(np.float32)
        self._setup_camera(view, framing)
        self._own_ctx = ctx is None
        self.ctx = ctx or create_context()
        self._setup_gl(samples)

    # --------------------------------------------------------------- set-up
    def _setup_camera(self, view: str, framing: dict | None) -> None:
        rig = self.rig
        face = rig.regions.get("face")
        pts = rig.neutral[face] if face is not None and len(face) else self._neutral
        lo, hi = pts.min(0), pts.max(0)
        centre = (lo + hi) / 2
        extent = hi - lo
        framing = {**(rig.meta.get("camera") or {}), **(framing or {})}
        target = np.asarray(framing.get("target", centre), np.float64)
        radius = float(framing.get("radius", 0.62 * max(extent[0], extent[1])))
        aspect = self.width / self.height
        fit = radius / math.tan(self.FOV / 2) / min(1.0, aspect)
        azimuth = math.radians({"front": 0.0, "three-quarter": 32.0, "side": 90.0}[view])
        elevation = math.radians(4.0 if view == "front" else 8.0)
        eye = target + fit * np.array([math.sin(azimuth) * math.cos(elevation),
                                       math.sin(elevation),
                                       math.cos(azimuth) * math.cos(elevation)])
        proj = _perspective(self.FOV, aspect, fit * 0.2, fit * 4.0)
        self._viewproj = (proj @ _look_at(eye, target)).astype(np.float32)
        self._eye = eye.astype(np.float32)
        self._pivot = np.asarray(framing.get(
            "pivot", (centre[0], lo[1] + 0.12 * extent[1], centre[2] - 0.3 * extent[2])),
            np.float32)
        # Key from the upper left of the camera, fill from the right, rim from behind.
        def toward(az, el):
            az, el = math.radians(az), math.radians(el)
            return np.array([math.sin(az) * math.cos(el), math.sin(el),
                             math.cos(az) * math.cos(el)], np.float32)
        base = math.degrees(azimuth)
        self._lights = np.stack([toward(base - 40, 35), toward(base + 55, 5), toward(180 + base, 40)])
        self._light_cols = np.array([[1.00, 0.95, 0.88], [0.38, 0.42, 0.50], [0.45, 0.45, 0.50]],
                                    np.float32)

    def _setup_gl(self, samples: int) -> None:
        import moderngl

        ctx = self.ctx
        self.prog = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        n = len(self.mesh.source)
        self.vbo = ctx.buffer(reserve=n * 6 * 4, dynamic=True)
        colors = self.mesh.colors.copy()
        colors[:, :3] = colors[:, :3] ** 2.2  # palette is sRGB; light in linear space
        self.cbo = ctx.buffer(colors.astype(np.float32).tobytes())
        self.ibo = ctx.buffer(self.mesh.triangles.astype(np.int32).tobytes())
        self.vao = ctx.vertex_array(
            self.prog, [(self.vbo, "3f 3f", "in_pos", "in_nrm"), (self.cbo, "4f", "in_col")],
            index_buffer=self.ibo, index_element_size=4)
        size = (self.width, self.height)
        samples = min(samples, ctx.max_samples) if samples else 0
        self.fbo_ms = ctx.framebuffer(
            color_attachments=[ctx.renderbuffer(size, 4, samples=samples)],
            depth_attachment=ctx.depth_renderbuffer(size, samples=samples))
        self.fbo = (ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)])
                    if samples else self.fbo_ms)
        self.prog["u_viewproj"].write(self._viewproj.T.copy().tobytes())
        self.prog["u_eye"].value = tuple(self._eye)
        self.prog["u_pivot"].value = tuple(self._pivot)
        self.prog["u_light_dir"].write(self._lights.tobytes())
        self.prog["u_light_col"].write(self._light_cols.tobytes())
        self._moderngl = moderngl

    # ------------------------------------------------------------- per frame
    def positions(self, weights: np.ndarray) -> np.ndarray:
        """(52,) or (T, 52) ARKit weights -> positions of the used vertices."""
        w = np.asarray(weights, np.float32)
        single = w.ndim == 1
        sw = (w[None] if single else w) @ self._mapping.T
        p = (sw @ self._deltas).reshape(len(sw), -1, 3) + self._neutral[None]
        return p[0] if single else p

    def _apply_eyes(self, pos: np.ndarray, eyes) -> None:
        if eyes is None or not self.mesh.eyes:
            return
        eyes = np.asarray(eyes, np.float64)
        for k, (idx, pivot) in enumerate(self.mesh.eyes):
            yaw, pitch, roll = eyes[3 * k: 3 * k + 3]
            r = rotation(yaw, pitch, roll).astype(np.float32)
            pos[idx] = (self._neutral[idx] - pivot) @ r.T + pivot

    def render_positions(self, pos: np.ndarray, head=None) -> np.ndarray:
        """Render used-vertex positions (from :meth:`positions`) -> (H, W, 3) uint8."""
        normals = fast_normals(pos, self.mesh.normal_tris, self.mesh.normal_op)
        src = self.mesh.source
        data = np.concatenate([pos[src], normals[src]], 1).astype(np.float32)
        self.vbo.write(data.tobytes())
        h = rotation(*head) if head is not None else np.eye(3)
        self.prog["u_head"].write(h.astype(np.float32).T.copy().tobytes())
        self.fbo_ms.use()
        self.ctx.enable(self._moderngl.DEPTH_TEST)
        self.ctx.disable(self._moderngl.CULL_FACE)
        self.fbo_ms.clear(*BACKGROUND, 1.0)
        self.vao.render(self._moderngl.TRIANGLES)
        if self.fbo is not self.fbo_ms:
            self.ctx.copy_framebuffer(self.fbo, self.fbo_ms)
        raw = self.fbo.read(components=3, alignment=1)
        return np.frombuffer(raw, np.uint8).reshape(self.height, self.width, 3)[::-1].copy()

    def render(self, weights: np.ndarray, head=None, eyes=None) -> np.ndarray:
        """One frame from (52,) ARKit weights, optional head (3,) and eyes (6,) radians."""
        pos = self.positions(weights)
        self._apply_eyes(pos, eyes)
        return self.render_positions(pos, head)

    def frames(self, anim, indices=None, chunk: int = 32):
        """Yield (H, W, 3) frames of an Animation (frame ``indices``, default all)."""
        idx = np.arange(anim.num_frames) if indices is None else np.asarray(indices)
        eyes = anim.eyes if anim.eyes is not None and np.abs(anim.eyes).max() > 1e-6 else None
        for start in range(0, len(idx), chunk):
            part = idx[start:start + chunk]
            batch = self.positions(anim.weights[part])
            for j, i in enumerate(part):
                pos = batch[j]
                if eyes is not None:
                    self._apply_eyes(pos, eyes[i])
                yield self.render_positions(pos, None if anim.head is None else anim.head[i])

    def release(self) -> None:
        for obj in ("vao", "vbo", "cbo", "ibo", "fbo", "fbo_ms", "prog"):
            thing = getattr(self, obj, None)
            if thing is not None:
                thing.release()
                setattr(self, obj, None)
        if self._own_ctx and self.ctx is not None:
            self.ctx.release()
            self.ctx = None
