"""Results as DICOM (SR, encapsulated PDF, secondary capture) and a DICOM node that reads the hand films a PACS
sends and sends the results back. Needs the ``pacs`` extra (highdicom, pynetdicom)."""
