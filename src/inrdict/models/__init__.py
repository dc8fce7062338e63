"""INRs as Equinox modules: the paper's dense INRs (`dense`: ReLU MLP, FFN, SIREN and their trained/frozen-mapping
variants, SPEC §3) and the other families as their authors' reference code ships them (SPEC §10): `elementwise`
`gauss`, `sinc`, `finer`, `wire` (complex and real WIRE), `mfn`. Each family is one record (`family.Family`: class,
frequency knob, coordinate domain, default depth, PRNG id, reference runs, importable layouts) that its module
registers once; `registry` builds models by family name (`make_model`, knobs, matched widths); `domain.OnDomain`
evaluates a model on its authors' coordinate range.

Each class plugs into `fit`, meta-learning, checkpoints and the empirical NTK like the dense models. Coordinates are
points r of shape (in_features,); batch with `jax.vmap`.

Dense INRs with an elementwise activation (subclasses of `DenseINR`, so the structured NTK works through
`ntk.layer_features`):

* `GaussINR`  rho(u) = exp(-(s u)²), s = 30                  Ramasinghe & Lucey, ECCV 2022 (code: vishwa91/wire, FINER).
* `Finer`     rho(u) = sin(omega0 (|u| + 1) u), scale under stop-gradient        Liu et al., CVPR 2024.
* `SincINR`   rho(u) = sinc(omega u) = sin(pi omega u)/(pi omega u)  Saratchandran et al., ICML 2024.

Other shapes (plain `eqx.Module`s with their own `structured_ntk_features`):

* `ComplexWire`  complex Gabor wavelet psi(u) = exp(j omega0 u) exp(-|s0 u|²), complex hidden layers, real output
  (Saragadam et al., CVPR 2023). Complex numbers are stored as pairs of real arrays (see the class); "rotated"
  groups for the complex layers.
* `RealWire`  cos(omega0 F z) exp(-(s0 S z)²) with two linear maps per layer (the reference `RealGaborLayer`).
* `MFN`  multiplicative filter networks, Fourier or Gabor filters (Fathony et al., ICLR 2021).

Grid encodings (`grid`, `hashgrid`: multiresolution tables of trained features, d-linearly interpolated, feeding a
bias-free ReLU head; Müller et al., SIGGRAPH 2022; their NTK takes the generic route):

* `MultigridINR`  family `grid`, every level a dense table (tiny-cuda-nn's DenseGrid defaults).
* `HashGridINR`  family `hashgrid`, the fine levels hashed into T rows (Instant-NGP; tiny-cuda-nn's image sample).
  `rotate=True` turns each level's coordinates (R-MHE, Dai & Fan, ICLR 2026). Their widths are the head's (64, 64),
  not matched to a budget, and they are not among the default rows of the studies over families (`MODEL_NAMES`).

Every model has `hyperparameters()` / `from_hyperparameters(h, dtype=)` (checkpoints), `in_features`,
`out_features`, `hidden`. Every family, the paper's own ("relu", "ffn", "siren") and the others, has one
constructor, `make_model(name, ..., key=, **knobs)`, whose keyword defaults (`model_knobs`) are each reference
implementation's settings for images (2 → … → 1); `family.get(name).knob` is the one a frequency sweep varies.
`matched_hidden` gives widths with about as many trained parameters as the paper's SIREN 2 → 256 ×4 → 1 (198,401):

    family        matched hidden    trained parameters
    relu, siren, gauss, finer, sinc   (256,) * 4   198,401
    wire (complex)                  (222,) * 3   199,135  (a complex weight counts as two real ones; 3 layers)
    wire_real                       (221,) * 3   197,796  (two linear maps per layer; 3 layers)
    mfn, Gabor filters              (253,) * 4   199,112
    mfn, Fourier filters            (255,) * 4   199,156
    ffn (T = 256 frozen features)   (211,) * 3   197,919  (3 hidden layers, as the paper's FFN)

Every family works with `fit`, `finetune`, `meta_train`, checkpoints and the structured NTK (`empirical_ntk`'s
"auto" and the matrix-free `inrdict.ntk.NTKOperator`), each tested against the Jacobian oracle in float64, and its
forward pass and initialisation against an independent NumPy transcription of the reference formulas
(`tests/test_reference_families.py`).

Our own code: the formulas and defaults were checked against the reference repositories (each class names the
files), no code was copied (MFN's reference code is AGPL; FINER's has no licence). Each class's docstring says
which file every default comes from, and where the paper and the code differ which we followed.
"""

# isort: skip_file
# The families register themselves when their modules are imported, in this order: the order of `family.names()`
# and of the default rows of every study over families (`MODEL_NAMES`; `tests/test_families.py` checks the two agree).
from inrdict.models._common import activation_width
from inrdict.models.dense import (
    FFN,
    SIREN_CONVENTIONS,
    DenseINR,
    FFNStar,
    Linear,
    ReluMLP,
    Siren,
    SirenConvention,
    SirenFrozenFirst,
    count_parameters,
    dense_layer_features,
    gaussian_frequencies,
    lecun_truncated_normal,
    partition_trainable,
    positional_encoding_frequencies,
    single_frequency,
    symmetric_uniform,
    trainable_filter,
)
from inrdict.models.gauss import GaussINR
from inrdict.models.wire import (
    ComplexLinear,
    ComplexWire,
    RealPartLinear,
    RealWire,
    complex_gabor,
    kernel_from_features,
)
from inrdict.models.finer import Finer
from inrdict.models.sinc import SincINR
from inrdict.models.mfn import MFN, FourierFilter, GaborFilter, MFNFilter
from inrdict.models.grid import MultigridINR
from inrdict.models.hashgrid import HashGridINR
from inrdict.models import family
from inrdict.models.family import INRModel
from inrdict.models.domain import OnDomain
from inrdict.models.family import Family, Recipe
from inrdict.models.registry import (
    BUILT_IN,
    MODEL_NAMES,
    SIREN_PARAMETERS,
    make_model,
    matched_hidden,
    model_key,
    model_knobs,
    on_reference_domain,
)
