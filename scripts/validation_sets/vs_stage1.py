import numpy as np, pydicom, nibabel as nib, tifffile
from astropy.io import fits
X = "/tmp/wheels/x/"; O = "/tmp/vs_raw/"
T = X + "pydicom/data/test_files/"
def info(n, a): print(n, a.shape, a.dtype, float(np.nanmin(a)), float(np.nanmax(a)))
ds = pydicom.dcmread(T + "examples_overlay.dcm"); a = ds.pixel_array; info("overlay", a)
print(" overlay modality", ds.Modality, getattr(ds, "RescaleSlope", None), getattr(ds,"BodyPartExamined",None), ds.get("Manufacturer"))
np.save(O + "overlay.npy", a)
ds = pydicom.dcmread(T + "CT_small.dcm"); a = ds.pixel_array.astype(np.float64); s, i = float(ds.RescaleSlope), float(ds.RescaleIntercept)
print(" CT slope/intercept", s, i); a = a * s + i; info("ct", a); np.save(O + "ct_small.npy", a)
try:
    ds = pydicom.dcmread(T + "examples_palette.dcm"); a = ds.pixel_array; info("palette raw", a)
    from pydicom.pixels import apply_color_lut
    rgb = apply_color_lut(a, ds); info("palette rgb", rgb); print(" pal modality", ds.Modality, ds.get("Manufacturer"))
    np.save(O + "palette_rgb.npy", rgb)
except Exception as e: print("palette fail", e)
try:
    ds = pydicom.dcmread(T + "JPEG2000.dcm"); a = ds.pixel_array; info("j2k", a); print(" j2k", ds.Modality, ds.get("Manufacturer"), getattr(ds,"RescaleSlope",None), ds.PixelRepresentation, ds.BitsStored)
    np.save(O + "nm_j2k.npy", a)
except Exception as e: print("j2k fail", e)
ds = pydicom.dcmread(T + "waveform_ecg.dcm")
for g, w in enumerate(ds.WaveformSequence):
    labs = [c.ChannelSourceSequence[0].CodeMeaning for c in w.ChannelDefinitionSequence]
    print(" wf group", g, w.NumberOfWaveformSamples, w.SamplingFrequency, labs, w.get("MultiplexGroupLabel"))
w0 = ds.waveform_array(0); labs = [c.ChannelSourceSequence[0].CodeMeaning for c in ds.WaveformSequence[0].ChannelDefinitionSequence]
print(" units", ds.WaveformSequence[0].ChannelDefinitionSequence[1].ChannelSensitivityUnitsSequence[0].CodeValue, ds.get("Manufacturer"))
k = [j for j, l in enumerate(labs) if l.strip().lower() in ("lead ii", "ii")]; print(" lead II idx", k)
np.save(O + "ecg_lead2.npy", w0[:, k[0]]); info("lead2", w0[:, k[0]])
for n, p in [("mni", X + "nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"),
             ("tlrc", X + "nibabel/tests/data/scaled+tlrc.BRIK"), ("aniso", X + "dipy/data/files/aniso_vox.nii.gz"),
             ("anat", X + "nibabel/tests/data/anatomical.nii"), ("i10426", X + "nilearn/datasets/data/image_10426.nii.gz")]:
    im = nib.load(p); a = np.asarray(im.get_fdata(), np.float64); a = np.squeeze(a); info(n, a); print("  zooms", im.header.get_zooms())
    np.save(O + n + ".npy", a)
for n, p in [("m13", X + "astropy/io/fits/hdu/compressed/tests/data/m13.fits"), ("aia", X + "sunpy/data/test/aia_171_level1.fits")]:
    with fits.open(p) as h:
        h.info(); d = [x for x in h if x.data is not None][0]; a = np.asarray(d.data, np.float64); info(n, a)
        hd = d.header; print("  ", {k: hd.get(k) for k in ("OBJECT","TELESCOP","INSTRUME","ORIGIN","DATE-OBS","BUNIT","WAVELNTH","OBSERVER","CRVAL1","CRVAL2")})
    np.save(O + n + ".npy", a)
a = tifffile.imread(X + "stardist/data/images/img2d.tif"); info("img2d", a); np.save(O + "img2d.npy", a)
