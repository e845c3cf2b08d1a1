"""TIFF writer: pages, strips or tiles, compression, SubIFD pyramids, OME-XML (``imwrite``, ``TiffWriter``)."""

from .writer import TiffWriter, imwrite

__all__ = ["TiffWriter", "imwrite"]
