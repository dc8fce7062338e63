import bz2, csv, pickle, re, gzip, json
import numpy as np
from pathlib import Path
from PIL import Image
from scipy import ndimage

X = Path("/tmp/wheels/x"); R = Path("/tmp/vs_raw")
SP = Path("/work/main/.venv/lib/python3.11/site-packages")
SK = SP / "skimage/data"; MPL = SP / "matplotlib/mpl-data/sample_data"; SKL = Path("/tmp/vs_src/sklearn/datasets/images")
OUT = Path("/work/main/src/inrdict/experiments/validation_sets")
for d in ("images", "series", "volumes"): (OUT / d).mkdir(parents=True, exist_ok=True)
W = np.array([0.299, 0.587, 0.114])
entries = []; dropped = []

def gray(a):
    a = np.asarray(a, np.float64)
    if a.ndim == 3 and a.shape[2] == 4:   # composite RGBA on white
        al = a[..., 3:4] / (255.0 if a[..., 3].max() > 1.0 else 1.0)
        top = 255.0 if a[..., :3].max() > 1.0 else 1.0
        a = a[..., :3] * al + top * (1 - al)
    if a.ndim == 3: a = a[..., :3] @ W
    return a

def down(a, longest=512):
    h, w = a.shape
    if max(h, w) <= longest: return a.astype(np.float64), None
    s = longest / max(h, w); h2, w2 = max(1, round(h * s)), max(1, round(w * s))
    im = Image.fromarray(a.astype(np.float32), mode="F").resize((w2, h2), Image.LANCZOS)
    return np.asarray(im, np.float64), (h2, w2)

def add(**kw): entries.append(kw)

def image_png(name, arr, *, minmax=False, split="held_out", category, origin, licence, transform_pre):
    g = gray(arr); steps = [transform_pre] if transform_pre else []
    if arr.ndim == 3: steps.append("RGBA composited on white, then " if arr.shape[2] == 4 else "")
    if arr.ndim == 3: steps[-1] += "gray = 0.299 R + 0.587 G + 0.114 B"
    if minmax:
        g = (g - g.min()) / (g.max() - g.min()) * 255.0; steps.append("min-max scaled to 0..255")
    h0, w0 = g.shape; g, new = down(g)
    if new: steps.append(f"anti-aliased downscale (PIL LANCZOS) {h0}x{w0} -> {new[0]}x{new[1]}")
    if min(g.shape) < 128:
        dropped.append((name, f"shorter side {min(g.shape)} < 128 after conversion (stored {h0}x{w0})")); return
    u8 = np.clip(np.rint(g), 0, 255).astype(np.uint8)
    Image.fromarray(u8, mode="L").save(OUT / f"images/{name}.png", optimize=True)
    add(name=name, split=split, kind="image", category=category, loader=f"file:images/{name}.png", origin=origin,
        licence=licence, transform=("; ".join(s for s in steps if s) or "already 8-bit grayscale, no change") + "; saved as 8-bit grayscale PNG", shape=list(u8.shape))

def image_npz(name, arr, *, split="held_out", category, origin, licence, transform_pre):
    a = np.asarray(arr, np.float64); steps = [transform_pre] if transform_pre else []
    h0, w0 = a.shape; a, new = down(a)
    if new: steps.append(f"anti-aliased downscale (PIL LANCZOS, float) {h0}x{w0} -> {new[0]}x{new[1]}")
    if min(a.shape) < 128:
        dropped.append((name, f"shorter side {min(a.shape)} < 128")); return
    np.savez_compressed(OUT / f"images/{name}.npz", signal=a.astype(np.float32))
    add(name=name, split=split, kind="image", category=category, loader=f"file:images/{name}.npz", origin=origin,
        licence=licence, transform="; ".join(steps) + "; stored full precision as float32 .npz (key 'signal'), no PNG", shape=list(a.shape))

def series(name, x, *, split="held_out", category, origin, licence, transform):
    x = np.asarray(x, np.float64)
    if split == "held_out" and x.size < 256: dropped.append((name, f"only {x.size} samples < 256")); return
    np.savez_compressed(OUT / f"series/{name}.npz", signal=x.astype(np.float32))
    add(name=name, split=split, kind="series", category=category, loader=f"file:series/{name}.npz", origin=origin,
        licence=licence, transform=transform, shape=[int(x.size)])

def volume(name, v, *, split, category, origin, licence, transform):
    v = np.asarray(v, np.float64)
    if min(v.shape) < 24: dropped.append((name, f"shorter axis {min(v.shape)} < 24")); return
    np.savez_compressed(OUT / f"volumes/{name}.npz", signal=v.astype(np.float32))
    add(name=name, split=split, kind="volume", category=category, loader=f"file:volumes/{name}.npz", origin=origin,
        licence=licence, transform=transform, shape=list(v.shape))

rgb = lambda p: np.asarray(Image.open(p))
MPLV = "matplotlib 3.11.2, matplotlib/mpl-data/sample_data/"
MPL_LIC = "not stated (matplotlib's sample_data README states no licence or origin; package licence: matplotlib licence, PSF-based)"
SKV = "scikit-image 0.26.0, skimage/data/"

# ------------------------------------------------------------------ DESIGN images (bundled)
import sys; sys.path.insert(0, "/work/main/src")
from inrdict.io.data import bundled_image
DESIGN_BUNDLED = {
 "astronaut": ("photograph, face", "NASA Great Images (Eileen Collins); skimage docstring: public domain"),
 "camera": ("photograph", "Lav Varshney; CC0"), "coffee": ("photograph", "Rachel Michetti; CC0"),
 "brick": ("photograph, texture", "CC0Textures Bricks25; CC0"), "text": ("text/line art", "Wikipedia File:Corner.png; public domain"),
 "chelsea": ("photograph (cat)", "Stefan van der Walt; CC0"), "grass": ("photograph, texture", "DeviantArt linolafett; CC0"),
 "gravel": ("photograph, texture", "CC0Textures Gravel04; CC0"), "moon": ("scientific, astronomy", "not stated in skimage"),
 "page": ("text/line art (scanned page)", "not stated in skimage"), "coins": ("photograph (museum)", "Brooklyn Museum; no known copyright restrictions"),
 "rocket": ("photograph", "SpaceX; public domain"), "clock": ("photograph, motion blur", "Stefan van der Walt; public domain"),
 "hubble_deep_field": ("scientific, astronomy", "NASA/HubbleSite; public domain"),
 "immunohistochemistry": ("medical, histology", "CMMI; no known copyright restrictions"),
 "horse": ("text/line art (silhouette)", "openclipart (Andreas Preuss); CC0"), "cell": ("scientific, microscopy (quantitative phase)", "Mueller et al. 2018; CC0"),
 "microaneurysms": ("medical, fundus", "FAU fundus images (Andreas Maier); CC0"),
}
for n, (cat, lic) in DESIGN_BUNDLED.items():
    img = bundled_image(n)
    add(name=n, split="design", kind="image", category=cat, loader=f"bundled:{n}",
        origin=f"scikit-image 0.26.0 skimage.data.{n}() via inrdict.io.data.bundled_image (already used in the project's design)",
        licence=lic.split("; ", 1)[1] if "; " in lic else lic, transform="none here (bundled_image: grayscale float64 in [0, 1], full size)",
        shape=list(img.shape))

# ------------------------------------------------------------------ HELD_OUT images
image_png("retina", rgb(SK / "retina.jpg"), category="medical, fundus photograph",
  origin=f"Fundus photograph of a normal left eye, Mikael Haggstrom (Wikimedia Commons); {SKV}retina.jpg (skimage.data.retina)",
  licence="CC0 1.0 Universal (as stated in the skimage docstring)", transform_pre="")
image_png("grace_hopper", rgb(MPL / "grace_hopper.jpg"), category="photograph, face",
  origin=f"Portrait of Grace Hopper (not stated in the package; externally known as an official US Navy portrait); {MPLV}grace_hopper.jpg",
  licence=MPL_LIC + "; US Navy official photos are US-government public domain (external knowledge)", transform_pre="")
mri = np.frombuffer(gzip.open(MPL / "s1045.ima.gz").read(), ">u2").reshape(256, 256)
image_npz("mri_s1045", mri, category="medical, MRI (brain slice)",
  origin=f"MRI head slice used in matplotlib's 'MRI with EEG' example; {MPLV}s1045.ima.gz", licence=MPL_LIC,
  transform_pre="read as big-endian '>u2' 256x256 (values 0..215)")
dem = np.load(MPL / "jacksboro_fault_dem.npz")["elevation"]
image_npz("jacksboro_dem", dem, category="scientific, terrain (DEM)",
  origin=f"Digital elevation model around the Jacksboro fault, Tennessee (3 arc-second grid, lon -84.41..-84.08, lat 36.45..36.73; elevation in m); {MPLV}jacksboro_fault_dem.npz key 'elevation'",
  licence=MPL_LIC, transform_pre="key 'elevation' (int16, metres)")
image_png("mpl_logo2", rgb(MPL / "logo2.png"), category="text/line art", origin=f"matplotlib logo; {MPLV}logo2.png", licence=MPL_LIC, transform_pre="")
image_png("minduka_present", rgb(MPL / "Minduka_Present_Blue_Pack.png"), category="text/line art (clip art)",
  origin=f"'Present Blue Pack' clip art by Minduka (externally: openclipart.org); {MPLV}Minduka_Present_Blue_Pack.png",
  licence=MPL_LIC + "; openclipart.org content is public domain/CC0 (external knowledge)", transform_pre="")
MB = "Middlebury 2014 stereo benchmark, 'Motorcycle' scene (Scharstein, Hirschmueller, Kitajima, Krathwohl, Nesic, Wang, Westling, GCPR 2014), downsampled x4 by skimage"
MB_LIC = "not stated in skimage (skimage is BSD-3-Clause); Middlebury asks that the GCPR 2014 paper be cited"
image_png("motorcycle_left", rgb(SK / "motorcycle_left.png"), category="photograph", origin=f"{MB}; {SKV}motorcycle_left.png (skimage.data.stereo_motorcycle()[0])", licence=MB_LIC, transform_pre="")
disp = np.load(SK / "motorcycle_disp.npz")["arr_0"].astype(np.float64); bad = ~np.isfinite(disp)
idx = ndimage.distance_transform_edt(bad, return_distances=False, return_indices=True); nbad = int(bad.sum())
disp = disp[tuple(idx)]
image_npz("motorcycle_disparity", disp, category="scientific, depth (stereo disparity ground truth)",
  origin=f"{MB}, ground-truth disparity map; {SKV}motorcycle_disp.npz (skimage.data.stereo_motorcycle()[2])", licence=MB_LIC,
  transform_pre=f"{nbad} non-finite (inf, no ground truth) pixels filled with the value of the nearest valid pixel (Euclidean distance transform); units: pixels of disparity at 741 px width")
image_png("skimage_logo", rgb(SK / "logo.png"), category="text/line art (logo)", origin=f"scikit-image logo; {SKV}logo.png (skimage.data.logo)",
  licence="not stated for the image (scikit-image package: BSD-3-Clause)", transform_pre="")
CC = "CC-BY-2.0 (https://creativecommons.org/licenses/by/2.0/), as stated in sklearn/datasets/images/README.txt"
image_png("china", rgb(SKL / "china.jpg"), category="photograph",
  origin="Photo by danielbuechele on Flickr (https://www.flickr.com/photos/danielbuechele/6061409035/), retrieved by Robert Layton 2011; scikit-learn 1.9.1, sklearn/datasets/images/china.jpg",
  licence=CC + "; attribution: danielbuechele", transform_pre="")
image_png("flower", rgb(SKL / "flower.jpg"), category="photograph",
  origin="Photo by vultilion on Flickr (https://www.flickr.com/photos/vultilion/6056698931/), retrieved by Robert Layton 2011; scikit-learn 1.9.1, sklearn/datasets/images/flower.jpg",
  licence=CC + "; attribution: vultilion (the README's 'Attribution' line for flower.jpg repeats 'danielbuechele', but its URLs point to vultilion)", transform_pre="")
face = np.frombuffer(bz2.decompress((X / "scipy/misc/face.dat").read_bytes()), np.uint8).reshape(768, 1024, 3)
image_png("raccoon_face", face, category="photograph (animal face)",
  origin="Raccoon photo 'raccoon-procyon-lotor.jpg' from public-domain-image.com; scipy 1.9.3 wheel, scipy/misc/face.dat (bz2 raw RGB)",
  licence="public domain (per the scipy.misc.face docstring: taken from public-domain-image.com)", transform_pre="")
ascent = np.array(pickle.load(open(X / "scipy/misc/ascent.dat", "rb")), np.uint8)
image_png("ascent", ascent, category="photograph (people, stairs)",
  origin="'accent-to-the-top.jpg' from public-domain-image.com; scipy 1.9.3 wheel, scipy/misc/ascent.dat (pickled list)",
  licence="public domain (per the scipy.misc.ascent docstring: taken from public-domain-image.com)", transform_pre="")
PD_LIC = "pydicom test_files README: 'I believe there is no restriction on using any of these files in this manner' (pydicom: MIT)"
image_npz("liver_mr", np.load(R / "overlay.npy"), category="medical, MRI (abdomen/liver)",
  origin="Siemens abdominal MR, 'MR-SIEMENS-DICOM-WithOverlays.dcm' (from GDCM) with cropped pixel data; pydicom 3.0.2, pydicom/data/test_files/examples_overlay.dcm",
  licence=PD_LIC, transform_pre="pixel_array (uint16, 0..1123, no rescale tags); overlay plane ignored")
image_npz("ct_small", np.load(R / "ct_small.npy"), category="medical, CT",
  origin="NEMA WG04 'CT1_UNC' CT slice downsized to 128x128; pydicom 3.0.2, pydicom/data/test_files/CT_small.dcm",
  licence=PD_LIC, transform_pre="pixel_array * RescaleSlope (1) + RescaleIntercept (-1024) -> Hounsfield units")
pal = np.load(R / "palette_rgb.npy").astype(np.float64) / 256.0
image_png("ultrasound_palette", pal, category="medical, ultrasound",
  origin="Philips ultrasound image 'OBXXXX1A.dcm' with cropped pixel data (palette colour); pydicom 3.0.2, pydicom/data/test_files/examples_palette.dcm",
  licence=PD_LIC, transform_pre="palette LUT applied (pydicom apply_color_lut, 16-bit RGB) and divided by 256 to 8-bit")
image_npz("bone_scintigraphy", np.load(R / "nm_j2k.npy"), category="medical, nuclear medicine (whole-body bone scan)",
  origin="GE whole-body bone scintigraphy, edited NEMA WG04 'NM1_J2KI' (JPEG 2000); pydicom 3.0.2, pydicom/data/test_files/JPEG2000.dcm",
  licence=PD_LIC, transform_pre="JPEG 2000 decoded by pydicom/Pillow (int16, -30..245, no rescale tags)")
t1 = np.load(X / "dipy/data/files/t1_coronal_slice.npy")
image_npz("t1_coronal", t1, category="medical, MRI (brain T1, coronal)",
  origin="T1-weighted brain MRI coronal slice; dipy 1.12.1, dipy/data/files/t1_coronal_slice.npy (dipy.data.get_fnames('t1_coronal_slice'))",
  licence="not stated for the file (dipy: BSD-3-Clause)", transform_pre="float64 0..1 as stored")
image_npz("dsb2018_nuclei", np.load(R / "img2d.npy"), category="scientific, microscopy (fluorescence nuclei)",
  origin="Fluorescence microscopy nuclei from the 2018 Kaggle Data Science Bowl (Caicedo et al., Nature Methods 16, 2019); stardist 0.9.2, stardist/data/images/img2d.tif",
  licence="not stated in stardist (stardist: BSD-3-Clause); the DSB2018 stage-1 data are released under CC0 (external knowledge)", transform_pre="uint16 (0..235) as stored")
image_png("histo_he", rgb(X / "stardist/data/images/histo.jpg"), category="medical, histology (H&E)",
  origin="H&E stained tissue from The Cancer Imaging Archive (per stardist.data.test_image_he_2d docstring); stardist 0.9.2, stardist/data/images/histo.jpg",
  licence="not stated in stardist (stardist: BSD-3-Clause); TCIA data are generally CC-BY (external knowledge)", transform_pre="")
image_png("mahotas_nuclear", rgb(X / "mahotas/demos/data/nuclear.png"), minmax=True, category="scientific, microscopy (fluorescence nuclei)",
  origin="'A fluorescent microscopy image of cell nuclei' (mahotas.demos docstring); mahotas 1.4.19, mahotas/demos/data/nuclear.png",
  licence="not stated for the image (mahotas: MIT)", transform_pre="")
image_npz("m13", np.load(R / "m13.npy"), category="scientific, astronomy (globular cluster M13, optical)",
  origin="Optical sky image centred at RA 250.42, Dec 36.46 (globular cluster M13), 300x300; astropy 8.0.2, astropy/io/fits/hdu/compressed/tests/data/m13.fits",
  licence="not stated for the file (astropy: BSD-3-Clause)", transform_pre="FITS primary HDU (int16 counts, 109..3618)")
image_npz("aia_171", np.load(R / "aia.npy"), category="scientific, astronomy (solar EUV)",
  origin="SDO/AIA 171 A level-1 image, 2011-02-15T00:00:00 (ORIGIN SDO/JSOC-SDP), 128x128 rebinned test file; sunpy 7.0.5, sunpy/data/test/aia_171_level1.fits",
  licence="not stated for the file (sunpy: BSD-2-Clause); SDO data are NASA open data (external knowledge)", transform_pre="FITS primary HDU (float64, -1.75..4212.75)")
image_png("aero", np.load(X / "pywt/data/aero.npz")["data"], category="photograph (aerial), scientific (remote sensing)",
  origin="Aerial photograph, 512x512 8-bit (origin not stated); PyWavelets 1.9.0, pywt/data/aero.npz key 'data' (pywt.data.aero)",
  licence="not stated for the image (PyWavelets: MIT)", transform_pre="")
dropped.append(("department_store", "mahotas DepartmentStore.jpg is a 'Find Wally' (Where's Wally, Martin Handford) illustration: a copyrighted artwork with no redistribution licence stated, so not vendored"))
dropped.append(("lena", "skipped on purpose (brief)"))

# ------------------------------------------------------------------ DESIGN series
eeg = np.fromfile(MPL / "eeg.dat", np.float64).reshape(800, 4)
for i in range(4):
    series(f"eeg_ch{i}", eeg[:, i], split="design", category="time series, EEG",
      origin=f"EEG recording used in matplotlib's 'MRI with EEG' example (800 samples, ~80 Hz), channel {i} of 4; {MPLV}eeg.dat",
      licence=MPL_LIC, transform=f"read as float64, reshaped (800, 4), column {i}")
def stk(c):
    d = np.genfromtxt(MPL / "Stocks.csv", delimiter=",", skip_header=1, names=True, dtype=None, encoding="utf-8")
    v = d[c].astype(float); return v[np.isfinite(v)]
for t in ("IBM", "AAPL", "XRX"):
    series(f"stock_{t.lower()}", stk(t), split="design", category="time series, finance",
      origin=f"Monthly {t} share price 1990-2022; {MPLV}Stocks.csv column {t} (file header: 'Data source: https://finance.yahoo.com')",
      licence="not stated (file names Yahoo Finance as source)", transform="rows with NaN (off-month dates) dropped")
def sm_col(P, col):
    r = list(csv.reader(open(P, encoding="utf-8-sig"))); i = r[0].index(col)
    return np.array([float(x[i]) if x[i] else np.nan for x in r[1:]])
SMV = "statsmodels 0.15.0, statsmodels/"
series("us_realgdp", sm_col(X / "statsmodels/datasets/macrodata/macrodata.csv", "realgdp"), split="design", category="time series, economics (quarterly)",
  origin=f"US real GDP, quarterly 1959Q1-2009Q3, FRED (Federal Reserve Bank of St. Louis); {SMV}datasets/macrodata/macrodata.csv column realgdp",
  licence="public domain ('This is public domain.' in statsmodels.datasets.macrodata)", transform="none")
series("elec_equip", sm_col(X / "statsmodels/datasets/elec_equip/elec_equip.csv", "STS.M.I7.W.TOVT.NS0016.4.000"), split="design", category="time series, economics/energy (industrial index)",
  origin=f"Eurostat monthly index, manufacture of electrical equipment (EU), 1995-; {SMV}datasets/elec_equip/elec_equip.csv",
  licence="public domain ('This is public domain.' in statsmodels.datasets.elec_equip)", transform="none")

# ------------------------------------------------------------------ HELD_OUT series
rows = [l.split() for l in open(X / "statsmodels/datasets/sunspots/src/sunspots_monthly.dat") if l[:4].isdigit()]
series("sunspots_monthly", [float(v) for r in rows for v in r[1:]], category="time series, astronomy (solar activity)",
  origin=f"Monthly mean sunspot numbers Jan 1749 - mid 2009, NOAA NGDC; {SMV}datasets/sunspots/src/sunspots_monthly.dat",
  licence="public domain ('This data is public domain.' in statsmodels.datasets.sunspots)", transform="fixed-width table flattened in time order (year rows, month columns); last (partial) year has 6 months")
co2 = sm_col(X / "statsmodels/datasets/co2/co2.csv", "co2"); nn = np.isnan(co2); k = np.arange(co2.size)
co2[nn] = np.interp(k[nn], k[~nn], co2[~nn])
series("co2_mauna_loa", co2, category="time series, climate (atmospheric CO2, weekly)",
  origin=f"Weekly atmospheric CO2 at Mauna Loa 1958-2001 (ppmv), Keeling & Whorf, CDIAC; {SMV}datasets/co2/co2.csv",
  licence="public domain ('This is public domain.' in statsmodels.datasets.co2)", transform=f"{int(nn.sum())} missing (NaN) weeks filled by linear interpolation over the sample index")
nile = sm_col(X / "statsmodels/datasets/nile/nile.csv", "volume")
series("nile", nile, category="time series, hydrology", origin="statsmodels nile", licence="public domain", transform="none")
el = np.loadtxt(X / "statsmodels/datasets/elnino/elnino.csv", delimiter=",", skiprows=1)
series("elnino_nino12", el[:, 1:].ravel(), category="time series, climate (sea-surface temperature, monthly)",
  origin=f"Monthly sea-surface temperature, Nino 1+2 region, 1950-2010 (deg C), NOAA ERSST.V3B; {SMV}datasets/elnino/elnino.csv",
  licence="public domain ('This data is in the public domain.' in statsmodels.datasets.elnino)", transform="61 year rows x 12 month columns flattened in time order (row-major)")
ecg = (np.load(X / "scipy/misc/ecg.dat")["ecg"].astype(np.float64) - 1024) / 200.0
series("ecg_mitbih208", ecg[:65536], category="time series, ECG (360 Hz)",
  origin="MIT-BIH Arrhythmia Database record 208, lead MLII, 19:35-24:35 excerpt (Moody & Mark 2001; PhysioNet); scipy 1.9.3 wheel, scipy/misc/ecg.dat (npz key 'ecg')",
  licence="not stated in scipy (scipy: BSD-3-Clause); the MIT-BIH Arrhythmia Database on PhysioNet is under the Open Data Commons Attribution License v1.0 (external knowledge) - cite Moody & Mark 2001 and Goldberger et al. 2000",
  transform="mV = (raw - 1024) / 200 (as scipy.misc.electrocardiogram); first 65536 of 108000 samples kept")
series("ecg_12lead_ii", np.load(R / "ecg_lead2.npy"), category="time series, ECG (1000 Hz)",
  origin="12-lead resting ECG, Mortara Instrument, 10 s rhythm group (multiplex group 0, 1000 Hz); pydicom 3.0.2, pydicom/data/test_files/waveform_ecg.dcm",
  licence="origin not given in the test_files README; README: 'I believe there is no restriction on using any of these files in this manner' (pydicom: MIT)",
  transform="channel 'Lead II' (index 1) of ds.waveform_array(0), in microvolts (sensitivity applied by pydicom)")
series("membrane_potential", np.fromfile(MPL / "membrane.dat", np.float32), category="time series, electrophysiology (membrane potential)",
  origin=f"Membrane potential recording used in a matplotlib example (12000 samples, 0.5 ms step per the example); {MPLV}membrane.dat",
  licence=MPL_LIC, transform="read as float32, no change")
goog = np.load(MPL / "goog.npz")["price_data"]["adj_close"]
series("goog_adj_close", goog, category="time series, finance (daily)",
  origin=f"GOOG daily adjusted close 2004-08-19 - 2008-10-14 (externally: Yahoo Finance); {MPLV}goog.npz key price_data, field adj_close",
  licence=MPL_LIC, transform="none")
sea = np.loadtxt(X / "vega_datasets/_data/seattle-temps.csv", delimiter=",", skiprows=1, usecols=1)
series("seattle_temps", sea, category="time series, climate (hourly air temperature)",
  origin="Hourly temperatures in Seattle, 2010 (deg F), from NOAA; vega_datasets 0.9.0, vega_datasets/_data/seattle-temps.csv",
  licence="public domain (dataset_info.json: 'drawn from public-domain NOAA data'; vega_datasets: MIT)", transform="none")
txt = (X / "pmdarima/datasets/taylor.py").read_text()
m = re.search(r"rslt = np\.array\(\[(.*?)\]\)", txt, re.S); tay = np.array([float(v) for v in m.group(1).replace("\n", " ").split(",") if v.strip()])
series("taylor_electricity", tay, category="time series, energy (half-hourly electricity demand)",
  origin="Half-hourly electricity demand, England and Wales, 5 Jun - 27 Aug 2000 (MW); Taylor (2003), 'kindly provided by James W Taylor'; pmdarima 2.1.1, pmdarima/datasets/taylor.py (inline array of load_taylor)",
  licence="not stated (pmdarima: MIT; the same data are in R forecast::taylor, GPL package, data provided by J. W. Taylor)",
  transform="parsed the inline np.array literal; no change")
series("elec_vic_hourly", sm_col(X / "statsmodels/tsa/stl/tests/results/mstl_elec_vic.csv", "y"), category="time series, energy (hourly electricity demand)",
  origin="Hourly electricity demand from 2012-01-01, 150 days; ORIGIN NOT STATED in the package (looks like tsibbledata vic_elec, Victoria AU, aggregated to hourly); statsmodels 0.15.0, statsmodels/tsa/stl/tests/results/mstl_elec_vic.csv (test fixture)",
  licence="not stated (test fixture; statsmodels: BSD-3-Clause)", transform="column y, no change")
dropped.append(("pyhrv_sample_ecg", "not needed: 10 held-out series reached without it"))

# ------------------------------------------------------------------ volumes
mni = np.load(R / "mni.npy"); from skimage.transform import resize
s = 64 / max(mni.shape); ns = tuple(int(round(d * s)) for d in mni.shape)
mni_d = resize(mni, ns, order=1, anti_aliasing=True, preserve_range=True)
volume("mni152_t1", mni_d, split="held_out", category="medical, MRI (T1 brain template)",
  origin="ICBM 2009a nonlinear symmetric MNI152 T1 template (Fonov et al. 2009/2011, McConnell Brain Imaging Centre), rescaled to uint8 by nilearn; nilearn 0.14.1, nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
  licence="nilearn states 'License: unknown'; upstream MNI ICBM152 licence is permissive with attribution (copyright McConnell Brain Imaging Centre; external knowledge)",
  transform=f"anti-aliased downscale (skimage.transform.resize, order 1, anti_aliasing) {mni.shape} -> {ns}, longest axis 64; NIfTI voxel axis order kept; values 0..255 scale")
volume("afni_tlrc", np.load(R / "tlrc.npy"), split="held_out", category="medical, MRI (brain, Talairach space)",
  origin="AFNI brain volume in Talairach space (3 mm); nibabel 5.4.2, nibabel/tests/data/scaled+tlrc.BRIK (+ .HEAD)",
  licence="not stated for the file (nibabel: MIT)", transform="loaded with nibabel (scale factors applied), singleton 4th axis squeezed")
volume("dipy_aniso_vox", np.load(R / "aniso.npy"), split="held_out", category="medical, MRI (brain, anisotropic 4x4x5 mm voxels)",
  origin="Brain MRI volume with anisotropic voxels; dipy 1.12.1, dipy/data/files/aniso_vox.nii.gz",
  licence="not stated for the file (dipy: BSD-3-Clause)", transform="none (int16 -> float32)")
volume("nibabel_anatomical", np.load(R / "anat.npy"), split="design", category="medical, MRI (T1 brain crop)",
  origin="Cropped T1 brain volume; nibabel 5.4.2, nibabel/tests/data/anatomical.nii", licence="not stated for the file (nibabel: MIT)", transform="none (big-endian int16 -> float32)")
volume("neurovault_10426", np.load(R / "i10426.npy"), split="design", category="medical, fMRI statistic map",
  origin="Group fMRI statistic map 'left vs right button press', NeuroVault image 10426; nilearn 0.14.1, nilearn/datasets/data/image_10426.nii.gz",
  licence="not stated in nilearn (nilearn: BSD-3-Clause); NeuroVault images are usually CC0 (external knowledge)", transform="none")
for sh, split in [("torus", "held_out"), ("octahedron", "held_out"), ("capped_cylinder", "held_out"), ("capsule_pair", "held_out"),
                  ("box_frame", "held_out"), ("sphere", "design"), ("box", "design")]:
    desc = {"capsule_pair": "two capsules (union)"}.get(sh, sh.replace("_", " "))
    add(name=f"sdf_{sh}", split=split, kind="volume", category="SDF (synthetic geometry)", loader=f"sdf:{sh}",
        origin=f"signed distance field of a {desc}, generated by the project's code (not stored)", licence="n/a (generated)",
        transform="generated on [-1, 1]^3; shape = declared default sampling grid", shape=[64, 64, 64])

json.dump({"entries": entries, "dropped": dropped}, open("/tmp/vs_entries.json", "w"), indent=1)
print(len(entries), "entries"); [print("DROPPED", d) for d in dropped]
