"""What comes from and goes to disk: signals and grids (`data`), face datasets (`datasets`), self-describing
checkpoints (`checkpoints`), the memoise-by-fingerprint store (`cache`) and checkpointed training runs (`runs`)."""
