"""Colour contrast as WCAG 2.1 defines it, for the tests of what the maps draw."""


def rgb(colour: str) -> tuple[int, ...]:
    """A colour as "#rrggbb", or "rgb(r, g, b)" as a browser's computed style gives it."""
    if colour.startswith("rgb"):
        return tuple(int(part) for part in colour[colour.index("(") + 1 : -1].split(",")[:3])
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def composite(fill: str, under: str, opacity: float) -> tuple[float, ...]:
    """The colour on screen: `fill` at `opacity` over `under`, as browsers blend (sRGB)."""
    pairs = zip(rgb(fill), rgb(under), strict=True)
    return tuple(opacity * f + (1 - opacity) * u for f, u in pairs)


def luminance(colour: tuple[float, ...]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def too_close(classes: list[str], empty: str, opacity: float, unders: list[str]) -> list[tuple]:
    """What a legend asks a person to tell apart but is under 3:1 as drawn (WCAG 1.4.11):
    each class against the next and against `empty` ("no open need", "no data"), every fill
    at `opacity` over each of `unders`. Empty when every pair is told apart."""
    found = []
    for under in unders:
        drawn = [composite(colour, under, opacity) for colour in classes]
        blank = composite(empty, under, opacity)
        for k, colour in enumerate(drawn):
            if contrast(colour, blank) < 3:
                found.append((classes[k], empty, under))
            if k and contrast(colour, drawn[k - 1]) < 3:
                found.append((classes[k - 1], classes[k], under))
    return found
