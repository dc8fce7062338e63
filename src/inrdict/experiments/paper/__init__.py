"""The paper's figures and the experiments that produce what they need (the meta-learned and the pretrained
SIRENs), one module each; registered in `inrdict.experiments.REGISTRY`."""
