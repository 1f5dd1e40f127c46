"""Pictures of predictions for people: one query's frames with GT and predicted boxes (PNG
contact sheet, GIF, MP4) and plots of sweeps, training curves and score distributions. Pillow
draws frames; matplotlib is imported only by the plotting modules."""
