"""Training, with no files: fitting one signal (`fit`), fine-tuning one initialisation on many images and its
linearised prediction (`finetune`), meta-learning an initialisation (`meta`); one loss (`losses`), one optimiser
factory (`optim`). Checkpointed, resumable runs live above, in `inrdict.io.runs`."""
