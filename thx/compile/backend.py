"""The JAX platform a compiled function runs on, from ``config.device``."""

from __future__ import annotations

from thx.config import config


def _backend() -> str | None:
    """The JAX platform named by ``config.device`` (None: JAX's default CPU)."""
    dev = config.device
    if dev == "cpu":
        return None
    platform = "tpu" if dev.startswith("tpu") else "cuda" if dev.startswith(("cuda", "gpu")) else dev
    import thx.lowering  # noqa: F401  (imports JAX keeping numpy.random's state)
    import jax
    try:
        jax.devices(platform)
    except RuntimeError:
        available = sorted({d.platform for d in jax.devices()})
        raise RuntimeError(f"thx: device={dev} was requested (THX_FLAGS/THEANO_FLAGS) but JAX has no "
                           f"{platform} platform here. Available platforms: {', '.join(available)}. "
                           f"Set device=cpu, or install a jaxlib with {platform} support.") from None
    return platform
