"""OME-XML: parsed model against tifffile-written OME-TIFFs, plane-to-IFD mapping, malformed XML."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import tifffile

import tiffstream
from tiffstream.tiff.ome import OmeXmlError, parse_ome_xml


def test_ome_model_from_tifffile(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "stack.ome.tif"
    data = np.zeros((2, 3, 4, 10, 12), np.uint16)  # T C Z Y X
    tifffile.imwrite(
        path,
        data,
        ome=True,
        metadata={
            "axes": "TCZYX",
            "PhysicalSizeX": 0.25,
            "PhysicalSizeY": 0.5,
            "PhysicalSizeZ": 2.0,
            "Channel": {"Name": ["DAPI", "GFP", "RFP"]},
        },
    )
    with tiffstream.open(path) as tif:
        ome = tif.ome
        assert ome is not None and tif.is_ome and len(ome.images) == 1
        pixels = ome.images[0].pixels
        assert (pixels.size_x, pixels.size_y, pixels.size_z, pixels.size_c, pixels.size_t) == (12, 10, 4, 3, 2)
        assert pixels.type == "uint16" and pixels.dimension_order == "XYZCT"
        assert (pixels.physical_size_x, pixels.physical_size_y, pixels.physical_size_z) == (0.25, 0.5, 2.0)
        assert [c.name for c in pixels.channels] == ["DAPI", "GFP", "RFP"]
        # tifffile writes the pages in TCZ order (Z fastest), which is XYZCT
        for t in range(2):
            for c in range(3):
                for z in range(4):
                    assert pixels.ifd_for_plane(z, c, t) == (t * 3 + c) * 4 + z
        assert len(tif.pages) == pixels.num_planes == 24


XML = """<?xml version="1.0"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:1">
 <Image ID="Image:0" Name="a"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint8"
   SizeX="4" SizeY="3" SizeZ="2" SizeC="2" SizeT="1">
   <Channel ID="Channel:0:0" SamplesPerPixel="1"/><Channel ID="Channel:0:1" SamplesPerPixel="1"/>
   <TiffData IFD="10" FirstC="0" FirstZ="0" PlaneCount="2"/>
   <TiffData IFD="20" FirstC="0" FirstZ="1" PlaneCount="2"/>
 </Pixels></Image>
</OME>"""


def test_tiff_data_blocks() -> None:
    pixels = parse_ome_xml(XML).images[0].pixels
    assert pixels.plane_index(z=1, c=0) == 2  # XYCZT: C fastest
    assert [pixels.ifd_for_plane(z, c) for z in range(2) for c in range(2)] == [10, 11, 20, 21]
    assert pixels.plane_coords(3) == (1, 1, 0)
    with pytest.raises(IndexError):
        pixels.plane_index(z=2)


@pytest.mark.parametrize(
    "text",
    [
        "<OME",
        "<NotOME/>",
        XML.replace('SizeX="4"', 'SizeX="four"'),
        XML.replace("XYCZT", "XYQZT"),
        XML.replace('SizeX="4"', 'SizeX="0"'),
    ],
)
def test_malformed_xml_raises_in_parser(text: str) -> None:
    with pytest.raises(OmeXmlError):
        parse_ome_xml(text)


def test_malformed_ome_in_file_warns_and_opens(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.ome.tif"
    bad = '<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image'
    tifffile.imwrite(path, np.zeros((3, 4), np.uint8), description=bad, metadata=None)
    with tiffstream.open(path) as tif:
        with pytest.warns(tiffstream.OmeXmlWarning, match="malformed OME-XML"):
            assert tif.ome is None
        assert tif.pages[0].shape == (3, 4)


def test_plain_tiff_has_no_ome(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((3, 4), np.uint8))
    with tiffstream.open(path) as tif:
        assert tif.ome is None and not tif.is_ome
