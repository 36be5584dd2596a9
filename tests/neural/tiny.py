"""Tiny random models with the real signatures, built by the tests (no weights are downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.registry import sha256_path

TINY_GFPGAN = {"num_style_feat": 16, "channel_multiplier": 1, "narrow": 0.0625, "num_mlp": 1,
               "different_w": True, "input_is_latent": True, "sft_half": True}


def _save(graph, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="lls-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def onnx_swapper(path: Path, *, size: int = 128, dim: int = 128, batch="N", out_range: str = "0,1",
                 nhwc: bool = False, seed: int = 0) -> Path:
    """target [N,3,S,S] + source [N,D] -> output [N,3,S,S]: sigmoid (or tanh) of a 3x3 conv of the crop plus
    a per-channel offset from the identity (so the output depends on both inputs)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    img_shape = [batch, size, size, 3] if nhwc else [batch, 3, size, size]
    nodes, inits = [], [
        numpy_helper.from_array((rng.normal(0, 0.2, (3, 3, 3, 3))).astype(np.float32), "conv_w"),
        numpy_helper.from_array((rng.normal(0, 0.5, (dim, 3))).astype(np.float32), "id_w"),
        numpy_helper.from_array(np.array([-1, 3, 1, 1], np.int64), "id_shape"),
    ]
    x = "target"
    if nhwc:
        nodes.append(helper.make_node("Transpose", ["target"], ["x_nchw"], perm=[0, 3, 1, 2]))
        x = "x_nchw"
    nodes += [
        helper.make_node("Conv", [x, "conv_w"], ["feat"], pads=[1, 1, 1, 1]),
        helper.make_node("MatMul", ["source", "id_w"], ["id3"]),
        helper.make_node("Reshape", ["id3", "id_shape"], ["id4"]),
        helper.make_node("Add", ["feat", "id4"], ["pre"]),
        helper.make_node("Sigmoid" if out_range == "0,1" else "Tanh", ["pre"], ["y" if nhwc else "output"]),
    ]
    if nhwc:
        nodes.append(helper.make_node("Transpose", ["y"], ["output"], perm=[0, 2, 3, 1]))
    graph = helper.make_graph(
        nodes, "tiny_swapper",
        [helper.make_tensor_value_info("target", TensorProto.FLOAT, img_shape),
         helper.make_tensor_value_info("source", TensorProto.FLOAT, [batch, dim])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, img_shape)], inits)
    return _save(graph, path)


def onnx_embedder(path: Path, *, dim: int = 128, seed: int = 1) -> Path:
    """ArcFace-style [N,3,112,112] -> [N,D]: strided conv, ReLU, flatten, linear."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.normal(0, 0.1, (8, 3, 8, 8)).astype(np.float32), "cw"),
             numpy_helper.from_array(rng.normal(0, 0.05, (8 * 14 * 14, dim)).astype(np.float32), "fw")]
    nodes = [helper.make_node("Conv", ["input", "cw"], ["c"], strides=[8, 8]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"], axis=1),
             helper.make_node("MatMul", ["f", "fw"], ["embedding"])]
    graph = helper.make_graph(nodes, "tiny_arcface",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 112, 112])],
                              [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", dim])], inits)
    return _save(graph, path)


def gfpgan(path: Path, *, size: int = 32, seed: int = 0) -> Path:
    """A random GFPGANv1Clean saved like the official checkpoints ({"params_ema": state_dict})."""
    import torch

    from engine.neural.compat import gfpgan_v1_clean

    torch.manual_seed(seed)
    net = gfpgan_v1_clean()(out_size=size, fix_decoder=False, **TINY_GFPGAN)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": net.state_dict()}, str(path))
    return path


def write_registry(path: Path, models_dir: Path, entries: dict[str, dict], required=("swapper", "embedder"),
                   pin: bool = True) -> Path:
    """A registry TOML; each entry's sha256 is computed from the file unless given (pin=False: left empty)."""
    lines = ["[engine]", f"required = {json.dumps(list(required))}", ""]
    for name, e in entries.items():
        e = dict(e)
        opts = e.pop("options", {})
        f = models_dir / e["path"]
        if "sha256" not in e:
            e["sha256"] = sha256_path(f) if pin and f.exists() else ""
        e.setdefault("licence", "test-only")
        e.setdefault("vram_mb", 1)
        lines.append(f"[models.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in e.items()]
        if opts:
            lines.append(f"[models.{name}.options]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def neural_models(models_dir: Path, *, restorer: bool = True, swap_size: int = 128) -> dict[str, dict]:
    onnx_swapper(models_dir / "swapper" / "tiny_swapper.onnx", size=swap_size)
    onnx_embedder(models_dir / "embedder" / "tiny_arcface.onnx")
    entries = {
        "swapper": {"kind": "swapper", "path": "swapper/tiny_swapper.onnx", "input_size": swap_size,
                    "required": True, "options": {"input_range": "0,1"}},
        "embedder": {"kind": "embedder", "path": "embedder/tiny_arcface.onnx", "input_size": 112, "required": True},
    }
    if restorer:
        gfpgan(models_dir / "restorer" / "tiny_gfpgan.pth", size=32)
        entries["restorer"] = {"kind": "restorer", "path": "restorer/tiny_gfpgan.pth", "input_size": 32,
                               "options": {"weight": 0.5, **TINY_GFPGAN}}
    return entries


def sd_pipeline(folder: Path, lora_dir: Path | None = None) -> Path:
    """A tiny random SD 1.5-shaped pipeline (UNet/VAE/CLIP with tiny configs, hand-made tokenizer vocab)
    saved as a diffusers folder, and optionally a random LoRA for its UNet."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=4, attention_head_dim=4)
    vae = AutoencoderKL(block_out_channels=[8, 16], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=4)
    text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                        intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                        vocab_size=200, max_position_embeddings=77))
    chars = "abcdefghijklmnopqrstuvwxyz0123456789,.-!'"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    tok = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    sched = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                          steps_offset=1, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    if lora_dir is not None:
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft import LoraConfig
        from peft.utils import get_peft_model_state_dict

        unet.add_adapter(LoraConfig(r=2, lora_alpha=2, init_lora_weights=False,
                                    target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
        layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
        StableDiffusionPipeline.save_lora_weights(str(lora_dir), unet_lora_layers=layers, safe_serialization=True)
    return folder
