"""Container layer: TIFF header, IFDs, tags, image layout, OME-XML. Never imports a decode backend."""
