"""Files: images, atomic writers, safe YAML, preset files, resource paths, thumbnails, face masks.
May import model only.
"""
