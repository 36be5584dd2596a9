"""``{% scene_slots scene alt %}``: a scene thumbnail with "A" / "B" badges over its face slots.

The badges are SVG drawn over the <img> with the same viewBox as the thumbnail and
``preserveAspectRatio="xMidYMid slice"``, so they stay on the faces whatever the frame's aspect ratio
(the image uses ``object-fit: cover``, centred). Geometry is in SVG attributes and colours in
static/css/slots.css: no inline style or script (strict CSP)."""

from __future__ import annotations

from django import template

register = template.Library()
_DIMS: dict[str, tuple[int, int]] = {}


def _dims(scene) -> tuple[int, int] | None:
    field = scene.thumbnail or scene.image
    if not field:
        return None
    key = field.name
    if key not in _DIMS:
        try:
            _DIMS[key] = (int(field.width), int(field.height))
        except (OSError, ValueError, TypeError):
            return None
    return _DIMS[key]


def slot_geometry(scene) -> dict | None:
    """viewBox size, per-slot rectangles and badge positions in thumbnail pixels, or None."""
    dims = _dims(scene)
    if dims is None:
        return None
    w, h = dims
    r = max(8.0, 0.045 * max(w, h))
    slots = []
    for letter, box in (("A", scene.slot_a), ("B", scene.slot_b)):
        try:
            x, y, bw, bh = (float(v) for v in box)
        except (TypeError, ValueError):
            return None
        px, py, pw, ph = x * w, y * h, bw * w, bh * h
        slots.append({
            "letter": letter, "key": letter.lower(),
            "x": f"{px:.1f}", "y": f"{py:.1f}", "w": f"{pw:.1f}", "h": f"{ph:.1f}",
            "cx": f"{px + pw / 2:.1f}", "cy": f"{max(r + 2, py - 0.35 * r):.1f}", "center": px + pw / 2,
        })
    return {"w": w, "h": h, "r": f"{r:.1f}", "font": f"{1.2 * r:.1f}", "stroke": f"{max(2.0, 0.006 * w):.1f}",
            "rx": f"{0.08 * r:.1f}", "slots": slots}


@register.inclusion_tag("gallery/_concept_slots.html")
def scene_slots(scene, alt: str = ""):
    return {"scene": scene, "alt": alt, "geo": slot_geometry(scene) if scene else None}
