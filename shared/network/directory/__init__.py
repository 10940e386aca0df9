"""The colleague directory: entries written with the profile, search by specialty, modality and region, suggestions."""
