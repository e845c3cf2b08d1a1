"""Series of generated files, one per layout tifffile writes or recognises (OME with SubIFDs, several images
and several files; ImageJ; shaped; overview chains with masks; Aperio, Hamamatsu, PerkinElmer, Leica,
Ventana, Philips): the same series and pixels as tifffile, opening lazily."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import tifffile

import tiffstream

pytestmark = pytest.mark.usefixtures("quiet")

RNG = np.random.default_rng(17)


def _image(*shape: int, dtype: str = "uint8") -> np.ndarray:
    return RNG.integers(0, 200, shape).astype(dtype)


def assert_like_tifffile(path, *, kinds: list[str] | None = None) -> None:
    with tifffile.TiffFile(path) as reference, tiffstream.open(path) as tif:
        want = [(s.kind, s.name, s.shape, s.axes, s.dtype, [lv.shape for lv in s.levels]) for s in reference.series]
        got = [(s.kind, s.name, s.shape, s.axes, s.dtype, [lv.shape for lv in s.levels]) for s in tif.series]
        assert got == want
        if kinds is not None:
            assert [s.kind for s in tif.series] == kinds
        for si, series in enumerate(reference.series):
            for li, level in enumerate(series.levels):
                np.testing.assert_array_equal(tif.series[si].levels[li].asarray(), level.asarray())


def test_ome_with_subifd_levels(tmp_path):
    path = tmp_path / "pyramid.ome.tif"
    data = _image(2, 3, 64, 48, dtype="uint16")
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, subifds=2, tile=(16, 16), metadata={"axes": "CZYX"}, compression="zlib")
        for factor in (2, 4):
            writer.write(data[..., ::factor, ::factor], tile=(16, 16), subfiletype=1, compression="zlib")
    assert_like_tifffile(path, kinds=["ome"])


def test_ome_with_several_images(tmp_path):
    path = tmp_path / "two.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as writer:
        writer.write(_image(3, 20, 30), metadata={"axes": "TYX", "Name": "first"})
        writer.write(_image(20, 30, 3), photometric="rgb", metadata={"Name": "second"})
    assert_like_tifffile(path, kinds=["ome", "ome"])


def test_ome_planes_in_several_files(tmp_path):
    ids = [f"urn:uuid:{uuid.UUID(int=i)}" for i in (1, 2)]
    planes = [_image(16, 24), _image(16, 24)]
    tiff_data = "".join(
        f'<TiffData FirstZ="{z}" IFD="0" PlaneCount="1"><UUID FileName="z{z}.ome.tif">{ids[z]}</UUID></TiffData>'
        for z in range(2)
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" '
        f'UUID="{ids[0]}"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="uint8" '
        f'SizeX="24" SizeY="16" SizeZ="2" SizeC="1" SizeT="1"><Channel ID="Channel:0" SamplesPerPixel="1"/>'
        f"{tiff_data}</Pixels></Image></OME>"
    )
    tifffile.imwrite(tmp_path / "z0.ome.tif", planes[0], description=xml, metadata=None)
    other = xml.replace(f'UUID="{ids[0]}"', f'UUID="{ids[1]}"', 1)
    tifffile.imwrite(tmp_path / "z1.ome.tif", planes[1], description=other, metadata=None)
    assert_like_tifffile(tmp_path / "z0.ome.tif", kinds=["ome"])
    np.testing.assert_array_equal(tiffstream.imread(tmp_path / "z0.ome.tif"), np.stack(planes))
    (tmp_path / "z1.ome.tif").unlink()  # a missing file's planes are zeros, as in tifffile
    assert_like_tifffile(tmp_path / "z0.ome.tif", kinds=["ome"])


def test_imagej_hyperstack(tmp_path):
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(path, _image(2, 3, 2, 20, 30, dtype="uint16"), imagej=True, metadata={"axes": "TZCYX"})
    assert_like_tifffile(path, kinds=["imagej"])


def test_imagej_rgb(tmp_path):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, _image(4, 20, 30, 3), imagej=True, photometric="rgb", metadata={"axes": "ZYXS"})
    assert_like_tifffile(path, kinds=["imagej"])


def test_shaped_series_contiguous_and_several(tmp_path):
    path = tmp_path / "shaped.tif"
    with tifffile.TiffWriter(path) as writer:
        writer.write(_image(4, 5, 12, 10), metadata={"axes": "TZYX"})
        writer.write(_image(12, 10, 3), photometric="rgb")
        writer.write(_image(3, 12, 10, dtype="float32"), compression="zlib", metadata={"axes": "CYX"})
    assert_like_tifffile(path, kinds=["shaped", "shaped", "shaped"])


def test_shaped_with_subifd_pyramid(tmp_path):
    path = tmp_path / "shaped_pyramid.tif"
    data = _image(64, 64)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, subifds=2, tile=(16, 16))
        writer.write(data[::2, ::2], tile=(16, 16), subfiletype=1)
        writer.write(data[::4, ::4], tile=(16, 16), subfiletype=1)
    assert_like_tifffile(path, kinds=["shaped"])


def test_overview_chain_with_mask(tmp_path):
    path = tmp_path / "cog.tif"
    data = _image(128, 96, 3)
    with tifffile.TiffWriter(path) as writer:
        writer.write(data, tile=(32, 32), photometric="rgb", metadata=None)
        writer.write(np.ones((128, 96), bool), tile=(32, 32), subfiletype=4, photometric=4, metadata=None)
        for factor in (2, 4):
            writer.write(data[::factor, ::factor], tile=(32, 32), photometric="rgb", subfiletype=1, metadata=None)
    assert_like_tifffile(path, kinds=["generic", "generic"])


def test_halving_chain_without_reduced_flags(tmp_path):
    path = tmp_path / "libvips.tif"
    data = _image(100, 80)
    with tifffile.TiffWriter(path) as writer:
        for factor in (1, 2, 4, 8):
            writer.write(data[::factor, ::factor], tile=(16, 16), compression="zlib", metadata=None)
    assert_like_tifffile(path, kinds=["generic"])


def _aperio(tmp_path, *, planes: int = 1):
    path = tmp_path / "slide.svs"
    base, level = _image(96, 128, 3), _image(48, 64, 3)
    head = "Aperio Image Library v12.0.15\r\n128x96 [0,0 128x96] (16x16) JPEG/RGB Q=70"
    description = head + "|AppMag = 40|MPP = 0.2498|Filename = slide"
    with tifffile.TiffWriter(path) as writer:
        for plane in range(planes):
            writer.write(base + plane, tile=(16, 16), photometric="rgb", description=description, metadata=None)
        writer.write(_image(24, 32, 3), photometric="rgb", description=head + " -> 32x24", metadata=None)
        for plane in range(planes):
            writer.write(level + plane, tile=(16, 16), photometric="rgb", description=head, metadata=None)
        writer.write(_image(20, 20, 3), photometric="rgb", subfiletype=1, description="Aperio label", metadata=None)
        writer.write(_image(20, 50, 3), photometric="rgb", subfiletype=9, description="Aperio macro", metadata=None)
    return path


def test_aperio_svs(tmp_path):
    path = _aperio(tmp_path)
    assert_like_tifffile(path, kinds=["svs"] * 4)
    with tiffstream.open(path) as tif:
        assert [s.name for s in tif.series] == ["Baseline", "Thumbnail", "Label", "Macro"]
        assert tif.vendor_metadata["AppMag"] == 40 and tif.vendor_metadata["MPP"] == 0.2498


def test_aperio_svs_focal_planes(tmp_path):
    assert_like_tifffile(_aperio(tmp_path, planes=3), kinds=["svs"] * 4)


def test_hamamatsu_ndpi(tmp_path):
    path = tmp_path / "slide.ndpi"
    base = _image(64, 64, 3)
    tags = [(271, 2, None, "Hamamatsu", True), (65420, 4, 1, 1, True)]
    with tifffile.TiffWriter(path) as writer:
        for factor in (1, 2, 4):
            magnification = [(65421, 11, 1, 20.0 / factor, True)]
            writer.write(base[::factor, ::factor], photometric="rgb", extratags=tags + magnification, metadata=None)
        writer.write(_image(10, 30, 3), photometric="rgb", extratags=tags + [(65421, 11, 1, -1.0, True)], metadata=None)
    # tifffile takes a small file with NDPI's tags for a 64-bit NDPI and finds no series: checked alone
    with tiffstream.open(path) as tif:
        assert [(s.kind, s.name, s.shape) for s in tif.series] == [
            ("ndpi", "Baseline", (64, 64, 3)),
            ("ndpi", "Macro", (10, 30, 3)),
        ]
        assert [level.shape for level in tif.series[0].levels] == [(64, 64, 3), (32, 32, 3), (16, 16, 3)]
        np.testing.assert_array_equal(tif.series[0].asarray(level=2), base[::4, ::4])
        assert tif.series[1].metadata["Magnification"] == -1.0


def test_perkinelmer_qptiff(tmp_path):
    path = tmp_path / "slide.qptiff"
    xml = "<?xml version='1.0'?><PerkinElmer-QPI-ImageDescription><Name>{}</Name></PerkinElmer-QPI-ImageDescription>"
    with tifffile.TiffWriter(path) as writer:
        for channel in ("DAPI", "FITC", "Cy5"):
            writer.write(
                _image(64, 64),
                tile=(16, 16),
                software="PerkinElmer-QPI",
                description=xml.format(channel),
                metadata=None,
            )
        writer.write(
            _image(16, 16, 3),
            photometric="rgb",
            software="PerkinElmer-QPI",
            description=xml.format("Thumbnail"),
            metadata=None,
        )
        for _ in range(3):
            writer.write(_image(32, 32), tile=(16, 16), software="PerkinElmer-QPI", subfiletype=1, metadata=None)
        writer.write(
            _image(20, 40, 3),
            photometric="rgb",
            software="PerkinElmer-QPI",
            description=xml.format("Overview"),
            metadata=None,
        )
        writer.write(
            _image(20, 20, 3),
            photometric="rgb",
            software="PerkinElmer-QPI",
            description=xml.format("Label"),
            metadata=None,
        )
    assert_like_tifffile(path, kinds=["qpi"] * 4)
    with tiffstream.open(path) as tif:
        assert tif.series[0].axes == "CYX" and tif.series[0].metadata["Name"] == "DAPI"


def test_leica_scn(tmp_path):
    path = tmp_path / "slide.scn"
    dims = '<dimension sizeX="64" sizeY="48" r="0" ifd="1"/><dimension sizeX="32" sizeY="24" r="1" ifd="2"/>'
    xml = (
        '<?xml version="1.0"?><scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01"><collection name="c">'
        '<image name="macro"><pixels sizeX="40" sizeY="20"><dimension sizeX="40" sizeY="20" r="0" ifd="0"/></pixels></image>'
        f'<image name="main"><pixels sizeX="64" sizeY="48">{dims}</pixels></image></collection></scn>'
    )
    with tifffile.TiffWriter(path) as writer:
        writer.write(_image(20, 40, 3), tile=(16, 16), photometric="rgb", description=xml, metadata=None)
        writer.write(_image(48, 64, 3), tile=(16, 16), photometric="rgb", metadata=None)
        writer.write(_image(24, 32, 3), tile=(16, 16), photometric="rgb", metadata=None)
    assert_like_tifffile(path, kinds=["scn", "scn"])


def test_ventana_bif(tmp_path):
    path = tmp_path / "slide.bif"
    xmp = b'<?xml version="1.0"?><Metadata><iScan Magnification="40" ScannerModel="VENTANA DP 200"/></Metadata>'
    tags = [(700, 1, len(xmp), xmp, True)]
    with tifffile.TiffWriter(path, bigtiff=True) as writer:
        writer.write(
            _image(20, 20, 3),
            photometric="rgb",
            software="ScanOutputManager 1.1",
            description="Label_Image",
            extratags=tags,
            metadata=None,
        )
        writer.write(
            _image(16, 16, 3),
            photometric="rgb",
            software="ScanOutputManager 1.1",
            description="Thumbnail",
            extratags=tags,
            metadata=None,
        )
        for level, size in enumerate((64, 32)):
            writer.write(
                _image(size, size, 3),
                tile=(16, 16),
                photometric="rgb",
                software="ScanOutputManager 1.1",
                description=f"level={level} mag=40 quality=95",
                extratags=tags,
                metadata=None,
            )
    assert_like_tifffile(path, kinds=["bif"] * 3)
    with tiffstream.open(path) as tif:
        assert tif.series[0].name == "Baseline" and tif.series[0].metadata["Magnification"] == "40"


def test_philips_tiff(tmp_path):
    path = tmp_path / "slide.tiff"
    spacing = "".join(
        f'<DataObject ObjectType="PixelDataRepresentation"><Attribute Name="DICOM_PIXEL_SPACING">"{s}" "{s}"</Attribute></DataObject>'
        for s in ("0.25", "0.5")
    )
    xml = (
        '<?xml version="1.0"?><DataObject ObjectType="DPUfsImport"><Attribute Name="DICOM_MANUFACTURER">PHILIPS</Attribute>'
        f'<Attribute Name="PIM_DP_SCANNED_IMAGES"><Array><DataObject ObjectType="DPScannedImage"><Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE"><Array>{spacing}</Array></Attribute></DataObject></Array></Attribute></DataObject>'
    )
    with tifffile.TiffWriter(path) as writer:
        writer.write(
            _image(64, 80, 3),
            tile=(32, 32),
            photometric="rgb",
            software="Philips DP v1.0",
            description=xml,
            metadata=None,
        )
        writer.write(
            _image(64, 64, 3), tile=(32, 32), photometric="rgb", software="Philips DP v1.0", metadata=None
        )  # padded
        writer.write(
            _image(20, 30, 3), photometric="rgb", software="Philips DP v1.0", description="Macro", metadata=None
        )
        writer.write(
            _image(20, 20, 3), photometric="rgb", software="Philips DP v1.0", description="Label", metadata=None
        )
    assert_like_tifffile(path, kinds=["philips"] * 3)
    with tiffstream.open(path) as tif:
        assert (
            tif.series[0].levels[1].shape == (33, 40, 3) and tif.series[0].metadata["DICOM_MANUFACTURER"] == "PHILIPS"
        )


def test_bad_series_and_level_name_the_range(tmp_path):
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, _image(8, 8))
    with tiffstream.open(path) as tif:
        with pytest.raises(tiffstream.ImageIndexError, match=r"series 0-0"):
            tif.series_level(3)
        with pytest.raises(tiffstream.ImageIndexError, match=r"levels 0-0"):
            tif.series[0].asarray(level=1)
    with pytest.raises(tiffstream.ImageIndexError, match=r"series 0-0"):
        tiffstream.imread(path, series=2)


def test_imread_follows_tifffile(tmp_path, seed_like_file):
    for kwargs in (
        {},
        {"key": 5},
        {"key": slice(2, 9)},
        {"series": 0, "level": 1},
        {"series": 0, "level": 2, "key": 31},
    ):
        np.testing.assert_array_equal(
            tiffstream.imread(seed_like_file, **kwargs), tifffile.imread(seed_like_file, **kwargs)
        )
    region = tiffstream.imread(seed_like_file, series=0, level=1, region=(2, 3, 12, 15))
    np.testing.assert_array_equal(region, tifffile.imread(seed_like_file, series=0, level=1)[:, 2:12, 3:15])


@pytest.mark.parametrize("layout", ["shaped", "imagej", "ome"])
def test_opening_parses_only_what_the_answer_needs(tmp_path, layout, monkeypatch):
    path = tmp_path / f"{layout}.tif"
    data = np.zeros((300, 8, 8), np.uint8)
    if layout == "ome":
        tifffile.imwrite(path, data, ome=True, metadata={"axes": "ZYX"})
    else:
        tifffile.imwrite(path, data, imagej=layout == "imagej")
    from tiffstream.tiff import file as file_module

    parsed = []
    original = file_module.parse_ifd
    monkeypatch.setattr(file_module, "parse_ifd", lambda *a, **k: parsed.append(a[2]) or original(*a, **k))
    with tiffstream.open(path) as tif:
        assert tif.series[0].shape == (300, 8, 8)
        assert len(parsed) <= 2  # the first page (and the second for a shaped file's layout check)
        np.testing.assert_array_equal(tif.series[0].asarray(), data)


def test_ome_metadata_gives_physical_sizes_and_channels(tmp_path):
    path = tmp_path / "sized.ome.tif"
    tifffile.imwrite(
        path,
        _image(2, 8, 8),
        ome=True,
        metadata={"axes": "CYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.5, "Channel": {"Name": ["DAPI", "GFP"]}},
    )
    with tiffstream.open(path) as tif:
        meta = tif.series[0].metadata
        assert meta["PhysicalSizeX"] == 0.25 and meta["PhysicalSizeY"] == 0.5 and meta["ChannelNames"] == ["DAPI", "GFP"]
