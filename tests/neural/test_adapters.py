"""The ONNX swapper/embedder and GFPGAN adapters on tiny random models (real onnxruntime / torch)."""

import numpy as np
import pytest

from engine.neural.compat import gfpgan_v1_clean
from engine.neural.onnx_models import OnnxEmbedder, OnnxSwapper, providers
from engine.neural.restore import GfpganRestorer
from engine.types import ModelError

from . import tiny


def _crops(n, size, seed=0):
    return [np.random.default_rng(seed + i).integers(0, 256, (size, size, 3), dtype=np.uint8) for i in range(n)]


def _unit(n, d, seed=0):
    v = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return list(v / np.linalg.norm(v, axis=1, keepdims=True))


def test_cpu_provider_without_cuda():
    assert providers()[-1] == "CPUExecutionProvider"


@pytest.mark.parametrize("size", [128, 256])
def test_swapper_batched_shapes_dtype_range(tmp_path, size):
    sw = OnnxSwapper(tiny.onnx_swapper(tmp_path / "s.onnx", size=size), input_size=size)
    assert sw.size == size and sw.batched and not sw.nhwc
    out = sw.swap_crops(_crops(2, size), _unit(2, 128))
    assert sw.runs == 1  # both faces of a scene in one run
    assert len(out) == 2 and all(o.shape == (size, size, 3) and o.dtype == np.uint8 for o in out)
    assert not np.array_equal(out[0], out[1])
    # the identity vector matters: same crop, other identity -> other output
    again = sw.swap_crops(_crops(1, size), _unit(1, 128, seed=5))
    assert not np.array_equal(again[0], out[0])


def test_swapper_minus_one_one_range_and_nhwc(tmp_path):
    sw = OnnxSwapper(tiny.onnx_swapper(tmp_path / "s.onnx", out_range="-1,1", nhwc=True), input_range="-1,1")
    assert sw.nhwc and sw.size == 128
    out = sw.swap_crops(_crops(2, 128), _unit(2, 128))
    assert out[0].shape == (128, 128, 3) and out[0].dtype == np.uint8
    assert out[0].min() < 100 and out[0].max() > 150  # tanh output mapped back over the full byte range


def test_fixed_batch_model_runs_per_face(tmp_path):
    sw = OnnxSwapper(tiny.onnx_swapper(tmp_path / "s.onnx", batch=1))
    assert not sw.batched
    assert len(sw.swap_crops(_crops(2, 128), _unit(2, 128))) == 2 and sw.runs == 2


def test_emap_projects_identity(tmp_path):
    emap = np.random.default_rng(3).normal(size=(512, 128)).astype(np.float32)
    np.save(tmp_path / "emap.npy", emap)
    sw = OnnxSwapper(tiny.onnx_swapper(tmp_path / "s.onnx"), emap=tmp_path / "emap.npy")
    v = sw.identity(_unit(1, 512)[0])
    assert v.shape == (128,) and abs(float(np.linalg.norm(v)) - 1) < 1e-5
    with pytest.raises(ModelError, match="512 values"):
        OnnxSwapper(tmp_path / "s.onnx").identity(_unit(1, 512)[0])


def test_swapper_rejects_wrong_signature_and_size(tmp_path):
    emb = tiny.onnx_embedder(tmp_path / "e.onnx")
    with pytest.raises(ModelError, match="4-D image input"):
        OnnxSwapper(emb)
    with pytest.raises(ModelError, match="registry says 256"):
        OnnxSwapper(tiny.onnx_swapper(tmp_path / "s.onnx", size=128), input_size=256)
    with pytest.raises(ModelError, match="cannot load"):
        (tmp_path / "bad.onnx").write_bytes(b"not onnx")
        OnnxSwapper(tmp_path / "bad.onnx")


def test_embedder_unit_vectors(tmp_path):
    em = OnnxEmbedder(tiny.onnx_embedder(tmp_path / "e.onnx", dim=64))
    v = em.embed_crops(_crops(3, 112))
    assert v.shape == (3, 64) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)


def test_gfpgan_arch_loads_without_torchvision_or_basicsr():
    import sys

    cls = gfpgan_v1_clean()
    assert cls.__name__ == "GFPGANv1Clean"
    assert "basicsr.utils.registry" not in sys.modules or hasattr(sys.modules["basicsr.utils.registry"], "Registry")


def test_gfpgan_restorer_shapes_and_blend_weight(tmp_path):
    path = tiny.gfpgan(tmp_path / "g.pth", size=32)
    crops = _crops(2, 32)
    r = GfpganRestorer(path, size=32, weight=1.0, **tiny.TINY_GFPGAN)
    out = r.restore_crops(crops)
    assert len(out) == 2 and out[0].shape == (32, 32, 3) and out[0].dtype == np.uint8
    assert not np.array_equal(out[0], crops[0])
    assert np.array_equal(r.restore_crops(crops)[0], out[0])  # stored noise: deterministic
    zero = GfpganRestorer(path, size=32, weight=0.0, **tiny.TINY_GFPGAN).restore_crops(crops)
    assert np.array_equal(zero[0], crops[0])
    half = GfpganRestorer(path, size=32, weight=0.5, **tiny.TINY_GFPGAN).restore_crops(crops)[0].astype(int)
    expect = (out[0].astype(int) + crops[0].astype(int)) / 2
    assert np.abs(half - expect).max() <= 1


def test_gfpgan_wrong_arch_params_is_a_model_error(tmp_path):
    path = tiny.gfpgan(tmp_path / "g.pth", size=32)
    with pytest.raises(ModelError, match="cannot load GFPGAN"):
        GfpganRestorer(path, size=32, **{**tiny.TINY_GFPGAN, "num_style_feat": 32})
