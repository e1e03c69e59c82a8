"""Why a model decides: Grad-CAM and its saliency fallback, and what each layer responds to, for any model
the workbench opens (ours, third-party files, bases nested inside other models)."""
