"""The user's image files made into a model's uint8 pixels: one decoder for the folder import, classify
and evaluate, so a photo gets the same pixels wherever it goes.

- `read`: a file's bytes, refusing pipes, devices and oversized files
- `find`: the image files among paths a user gave (folders searched)
- `decode`: bytes → uint8 pixels of a target size (EXIF rotation, reduced-size JPEG decoding, caps)
- `jpeg_fast`: the plain-JPEG fast path `decode` takes when a file is already the target size
- `colour`: any Pillow mode → 8-bit L or RGB (transparency on white, 16-bit and float scaled)
- `fit`: the resize rules (`FIT_MODES`: crop, pad, stretch) and model input shapes
- `prepare`: one file fitted to a model with every step told in words (classify)
- `errors`: `ImageSkipped` (a short reason) and `ImageReadError` (a sentence naming the file)
"""
