package cda

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// DocumentID returns the document id (ClinicalDocument/id/@root) of a CDA
// document, reading only as far as that element: a few tokens at the top,
// not the document. The archive uses it to check that stored bytes are the
// document their record names.
func DocumentID(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", errors.New("the document ends before its id")
		}
		if err != nil {
			return "", fmt.Errorf("read the document's id: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1 && (el.Name.Space != NSHL7 || el.Name.Local != "ClinicalDocument"):
				return "", errors.New("the root element is not ClinicalDocument")
			case depth == 2 && el.Name.Space == NSHL7 && el.Name.Local == "id":
				for _, a := range el.Attr {
					if a.Name.Space == "" && a.Name.Local == "root" {
						return a.Value, nil
					}
				}
				return "", errors.New("the document's id has no root")
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return "", errors.New("the document has no id")
			}
		}
	}
}
