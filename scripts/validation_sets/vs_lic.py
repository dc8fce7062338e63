import json
from pathlib import Path
OUT = Path("/work/main/src/inrdict/experiments/validation_sets")
d = json.load(open("/tmp/vs_entries.json")); E = [e for e in d["entries"] if e["loader"].startswith("file:")]
E.sort(key=lambda e: e["loader"])
L = ["# Licences and origins of the vendored validation files", "",
"Date: 2026-12-06. Manifest: `sets.toml` (same folder). Every file below was copied from a data file shipped inside a PyPI",
"wheel (no download at run time), converted as described in the manifest's `transform` field, and stored as an 8-bit",
"grayscale PNG or a float32 `.npz` (key `signal`). Licences are quoted as the source states them; \"not stated\" means the",
"package gives no licence for that data file (the package's own code licence is named for context, it does not",
"necessarily cover the data). Statements marked \"external knowledge\" are not in the package.", "",
"## Required attributions (CC-BY-2.0)", "",
"- `images/china.png`: \"China\" photo by **danielbuechele** (https://www.flickr.com/photos/danielbuechele/6061409035/),",
"  licensed CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/). Modified: converted to grayscale and downscaled to 342x512.",
"- `images/flower.png`: \"Flower\" photo by **vultilion** (https://www.flickr.com/photos/vultilion/6056698931/),",
"  licensed CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/). Modified: converted to grayscale and downscaled to 342x512.",
"  (scikit-learn's README.txt writes \"Attribution: Some rights reserved by danielbuechele\" for flower.jpg too, but its",
"  author and photo URLs are vultilion's; both names are given here.)", "",
"## Requested citations (not licence conditions stated in the packages)", "",
"- `series/ecg_mitbih208.npz`: Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med and Biol",
"  20(3):45-50 (2001), doi:10.13026/C2F305; Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation",
"  101(23):e215-e220 (2000). PhysioNet distributes the MIT-BIH Arrhythmia Database under the Open Data Commons Attribution",
"  License v1.0 (https://opendatacommons.org/licenses/by/1-0/) (external knowledge).",
"- `images/motorcycle_left.png`, `images/motorcycle_disparity.npz`: D. Scharstein, H. Hirschmueller, Y. Kitajima,",
"  G. Krathwohl, N. Nesic, X. Wang, P. Westling. High-resolution stereo datasets with subpixel-accurate ground truth.",
"  GCPR 2014. http://vision.middlebury.edu/stereo/data/scenes2014/",
"- `volumes/mni152_t1.npz`: V.S. Fonov, A.C. Evans, R.C. McKinstry, C.R. Almli, D.L. Collins. Unbiased nonlinear average",
"  age-appropriate brain templates from birth to adulthood. NeuroImage 47 (2009) S102; V. Fonov et al. NeuroImage 54(1)",
"  (2011) 313-327. Copyright McConnell Brain Imaging Centre (external knowledge: the ICBM 2009 licence permits use and",
"  redistribution with this notice); nilearn itself states \"License: unknown\".",
"- `images/dsb2018_nuclei.npz`: Caicedo et al. Nucleus segmentation across imaging experiments: the 2018 Data Science Bowl.",
"  Nature Methods 16 (2019) 1247-1253.",
"- `series/taylor_electricity.npz`: J.W. Taylor (2003), Short-term electricity demand forecasting using double seasonal",
"  exponential smoothing. JORS 54, 799-805.", "",
"## Package licences (code licences of the wheels the files came from)", "",
"scikit-image 0.26.0 BSD-3-Clause; matplotlib 3.11.2 matplotlib licence (PSF-based); scikit-learn 1.9.1 BSD-3-Clause;",
"scipy 1.9.3 BSD-3-Clause; pydicom 3.0.2 MIT; dipy 1.12.1 BSD-3-Clause; stardist 0.9.2 BSD-3-Clause; mahotas 1.4.19 MIT;",
"astropy 8.0.2 BSD-3-Clause; sunpy 7.0.5 BSD-2-Clause; PyWavelets 1.9.0 MIT; statsmodels 0.15.0 BSD-3-Clause;",
"vega_datasets 0.9.0 MIT; pmdarima 2.1.1 MIT; nilearn 0.14.1 BSD-3-Clause; nibabel 5.4.2 MIT.",
"No file was taken from a GPL/LGPL package (heartpy, obspy were not used).", "",
"## Per file", ""]
for e in E:
    f = e["loader"][5:]
    L += [f"### `{f}` ({e['split']}, {e['kind']})", "", f"- Origin: {e['origin']}", f"- Licence: {e['licence']}",
          f"- Transform: {e['transform']}", ""]
L += ["## Not vendored", "",
"- matplotlib `logo2.png`: 130x542; after the required downscale to a longest side of 512 its shorter side is 123 px (< 128).",
"- mahotas `DepartmentStore.jpg`: a \"Where's Wally\" (Martin Handford) illustration, a copyrighted artwork with no",
"  licence for redistribution stated; not vendored.",
"- mahotas `lena.jpg`: deliberately excluded.",
"- statsmodels `nile`: only 100 samples (< 256).",
"- pyhrv `SampleECG.txt`: not needed (10 held-out series reached without it).",
"- heartpy (GPL) and obspy (LGPL) data: excluded by licence.",
"- Bundled scikit-image images (design split, `bundled:`) and SDFs (`sdf:`) are not stored here.", ""]
(OUT / "LICENSES.md").write_text("\n".join(L), encoding="utf-8")
