"""Neural tier: ONNX face swapper + ArcFace-style embedder (onnxruntime / onnxruntime-gpu), GFPGAN
restoration (torch) and SD 1.5 + LoRA scene generation (diffusers), on operator weights listed in
``engine/models.toml``. Heavy imports (torch, diffusers) happen inside the functions that need them,
so importing this package costs nothing on the web tier."""
