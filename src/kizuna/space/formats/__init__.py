"""The text formats of space data: TLE/3LE (:mod:`.tle`), CCSDS OMM (:mod:`.omm`: KVN, XML,
and CelesTrak/Space-Track JSON and CSV), CCSDS CDM (:mod:`.cdm`: KVN and XML) and CCSDS OEM
(:mod:`.oem`: KVN, read and interpolated).

Parsers are pure (text in, records out). OMM and CDM share one CCSDS epoch parser
(``_epoch``) and one way of reading and writing NDM/XML (``_xml``); every format's record
error is a :class:`~kizuna.space.formats._record.RecordError`, which prints where the record is,
what is wrong, the expected form, then the given input.
"""

__all__: list[str] = []
