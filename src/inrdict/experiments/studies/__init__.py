"""What several figures share: model rows and meta-learned rows (`rows`), the face-learnability study
(`learnability`), model specs of `analyse` and `families` (`specs`), input mappings (`mappings`), tones (`tones`),
pretrained rows (`pretrained`), image fits memoised on disk (`fits`). A study is imported by figures, never the other
way round."""
