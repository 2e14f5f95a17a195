"""Everything between a file on disk and a ranked passage. Qt-free; may import ``models``."""
