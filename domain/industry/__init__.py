"""Industry systems the approval flow depends on (pure: no I/O, no clock): drawing delivery
(图纸电子化交付), BIM review (BIM 图审), joint surveying (联合测绘) and the multi-plan platform
(多规合一)."""
