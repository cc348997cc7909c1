"""`--report DIR`: one self-contained HTML page and its PNG images, showing a run of `veil
denoise` or `veil check` (inputs and results side by side, their difference, quality against
a reference, time and bytes per phase, the activation circuits). folder.py writes the folder
all at once; images.py, quality.py and charts.py make its parts; page.py lays them out;
denoise.py and check.py gather them from a run.
"""
