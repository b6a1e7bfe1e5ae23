"""Read one animal's file with the dataset's reader and write it as a Recording (.nc)."""

import logging
import sys
from pathlib import Path

from neurodyn.data import read_recording, write_recording
from neurodyn.data.readers import reader_options
from neurodyn.io import provenance

sys.stderr = sys.stdout = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.INFO)

reader = snakemake.params.reader
animal = snakemake.wildcards.animal
path = Path(snakemake.input.recording)
kwargs = {"animal": animal}
if reader == "synthetic":  # the synthesize rule wrote Recordings as NetCDF
    reader, path = "netcdf", path / f"{animal}.nc"
if "labels" in snakemake.input.keys():
    kwargs["labels"] = snakemake.input.labels
kwargs.update(reader_options(reader, snakemake.params.dataset))

rec = read_recording(path, format=reader, **kwargs)
rec.attrs.update(provenance(config=snakemake.params.dataset))
write_recording(rec, snakemake.output[0])
logging.info("%s: %s from %s (%s)", animal, dict(rec.sizes), path, reader)
